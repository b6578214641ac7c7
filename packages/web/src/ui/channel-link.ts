/**
 * Channel links (issue 16). A public channel: `<server>/#channel=<name>`; a private (or any) channel
 * by invite: `<server>/#channel-invite=<token>`, the form the CLI prints too. Both are fragments, so
 * the browser never sends them to the server with the page request (an invite token stays out of
 * access logs and Referer headers); the app reads them and shows a preview with a Subscribe button.
 */
import { CHANNEL_NAME_PATTERN } from '@courier/protocol';

export type ChannelTarget = { name: string } | { invite: string };

const INVITE_MARK = '#channel-invite=';
const NAME_MARK = '#channel=';
/** An invite token: base64url, as the server makes them (24 random bytes give 32 characters). */
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * What a person typed or opened: a whole link, just its fragment, or an @name. Undefined when it is
 * none of these (a name breaking the channel-name rules, a damaged token).
 */
export function parseChannelTarget(text: string): ChannelTarget | undefined {
  const input = text.trim();
  const invite = input.indexOf(INVITE_MARK);
  if (invite >= 0) {
    const token = safeDecode(input.slice(invite + INVITE_MARK.length));
    return token !== undefined && TOKEN.test(token) ? { invite: token } : undefined;
  }
  const named = input.indexOf(NAME_MARK);
  const raw = named >= 0 ? safeDecode(input.slice(named + NAME_MARK.length)) : input;
  if (raw === undefined) return undefined;
  const name = raw.replace(/^@/, '').toLowerCase();
  return CHANNEL_NAME_PATTERN.test(name) ? { name } : undefined;
}

/** The link that opens a channel (by name) or an invite in the web app at `origin`. */
export function channelLink(origin: string, target: ChannelTarget): string {
  const base = origin.replace(/\/$/, '');
  return 'invite' in target ? `${base}/${INVITE_MARK}${target.invite}` : `${base}/${NAME_MARK}${target.name}`;
}

/** Whether a URL's fragment is a channel link (the app opens the channel preview for it). */
export function isChannelFragment(hash: string): boolean {
  return hash.startsWith(INVITE_MARK) || hash.startsWith(NAME_MARK);
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * A channel post's file goes through the same download and streaming paths as a chat's file, under
 * this "chat" name (`channel:<channelId>`, with the post id as the message key); chat group ids
 * never hold a colon.
 */
const MEDIA_MARK = 'channel:';

export function channelMediaGroup(channelId: string): string {
  return `${MEDIA_MARK}${channelId}`;
}

/** The channel a media "chat" name stands for, or undefined for a real chat's group id. */
export function channelOfMediaGroup(groupId: string): string | undefined {
  return groupId.startsWith(MEDIA_MARK) ? groupId.slice(MEDIA_MARK.length) : undefined;
}
