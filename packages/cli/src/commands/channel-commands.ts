import { CourierError, type ChannelView } from '@courier/protocol';
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import {
  ChannelClient,
  type ChannelKeyOutcome,
  type ChannelPost,
  channelFileOf,
  channelKeyText,
  type SecureClient,
} from '@courier/sdk';
import type { CommandContext } from '../context.ts';
import { fileSource } from '../file-source.ts';
import { resumableUpload } from '../pending-uploads.ts';
import { mimeOf } from '../mime.ts';
import { photoPreview } from '../photo-preview.ts';
import { humanBytes, ProgressBar } from '../progress-bar.ts';
import { Names } from '../names.ts';
import { show } from '../output.ts';
import { saveDecryptedFile } from '../save-file.ts';
import { printable, safeJson } from '../terminal-text.ts';

/** Said wherever channel posts are read or written: they are not end-to-end encrypted. */
export const PUBLIC_NOTE = 'public channel, not end-to-end encrypted';

const INVITE_MARK = '#channel-invite=';

export function channelClient(ctx: CommandContext): ChannelClient {
  ctx.profile.requireSession();
  const client = new ChannelClient(ctx.profile.http(), ctx.profile.channelKeyring());
  client.on('key_changed', (change) =>
    ctx.io.err(
      `(warning: the key of channel @${printable(change.name)} changed: pinned ${channelKeyText(change.pinned)}, now shown ${channelKeyText(change.served)}; its posts are checked against the pinned key and rejected until you check the new key with the channel)`,
    ),
  );
  return client;
}

/** The invite link people share: the server's address and the token after `#channel-invite=`. */
export function inviteLink(server: string, token: string): string {
  return `${server.replace(/\/$/, '')}/${INVITE_MARK}${token}`;
}

/** One post as a line: marked as a public channel's, with the channel's @name. */
export function describePost(name: string, post: ChannelPost): string {
  const where = `[@${printable(name)} · ${PUBLIC_NOTE}]`;
  if (post.kind === 'rejected')
    return `${where} #${post.seq} REJECTED: this post is not signed by the channel's key (changed or forged on the way); not shown`;
  const id = `#${post.seq} ${post.postId.slice(0, 8)}`;
  if (post.deleted) return `${where} ${id} (deleted)`;
  const content = post.content;
  const file = channelFileOf(post);
  const body = file
    ? `[file] ${printable(file.name)} (${printable(file.mime)}, ${humanBytes(file.size)}${file.width && file.height ? `, ${file.width}×${file.height}` : ''}) — courier channel download @${printable(name)} ${post.postId.slice(0, 8)}`
    : content?.kind === 'known'
      ? content.content.type === 'text'
        ? printable(content.content.text)
        : `(${content.content.type})`
      : content?.kind === 'unsupported'
        ? `(a ${printable(content.type)} post this version cannot show)`
        : '(a malformed post)';
  const edited = post.revision > 0 ? ' (edited)' : '';
  return `${where} ${id} ${body}${edited} · ${post.views} view${post.views === 1 ? '' : 's'}`;
}

const describeChannel = (c: ChannelView) =>
  `@${printable(c.name)}  "${printable(c.title)}"  ${c.visibility}, ${c.subscriberCount} subscriber${c.subscriberCount === 1 ? '' : 's'}${c.myRole && c.myRole !== 'subscriber' ? `, you are ${c.myRole}` : ''}  (${c.channelId})`;

export async function createChannel(
  ctx: CommandContext,
  name: string,
  title: string[],
  options: { private?: boolean; description?: string },
): Promise<void> {
  const client = channelClient(ctx);
  const channel = await client.create(
    name,
    title.join(' '),
    options.private ? 'private' : 'public',
    options.description ?? '',
  );
  // The account's other devices get the key too (end to end), so that they can post.
  let shared = '';
  if ((await ctx.profile.http().devices()).length > 1) {
    const { withSecureClient } = await import('../secure-session.ts');
    shared = await withSecureClient(ctx, ({ client: secure }) =>
      client.shareWithOwnDevices(secure, channel.channelId),
    ).then(
      () => 'Its secret key went to your other devices, end to end.',
      (error: unknown) =>
        `Its secret key could not be sent to your other devices now (${error instanceof CourierError ? error.code : 'error'}): "courier channel admin send-key @${channel.name}" sends it.`,
    );
  }
  show(ctx.io, ctx.json, channel, () => [
    `Created ${describeChannel(channel)}.`,
    `Its key (people can compare it): ${channelKeyText(channel.publicKey)}`,
    ...(shared ? [shared] : []),
    `Posts are ${PUBLIC_NOTE}. "courier channel post @${channel.name} <text>" posts; ${
      options.private
        ? `"courier channel invite @${channel.name}" makes an invite link.`
        : `anyone can "courier channel subscribe @${channel.name}".`
    }`,
  ]);
}

export async function postToChannel(
  ctx: CommandContext,
  channel: string,
  text: string[],
  options: { file?: string } = {},
): Promise<void> {
  const client = channelClient(ctx);
  if (options.file !== undefined && text.length > 0)
    throw new CourierError('REQ_INVALID', { message: 'A post is a text or a --file, not both.' });
  if (options.file === undefined && text.length === 0)
    throw new CourierError('REQ_INVALID', { message: 'Nothing to post: give a text or --file <path>.' });
  const view = await client.show(channel);
  if (options.file !== undefined) {
    const session = ctx.profile.requireSession();
    const path = resolve(options.file);
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(path);
    } catch (cause) {
      throw new CourierError('REQ_INVALID', { message: `Cannot read ${options.file}.`, cause });
    }
    if (!stat.isFile()) throw new CourierError('REQ_INVALID', { message: `${options.file} is not a file.` });
    const mime = mimeOf(path);
    const bar = new ProgressBar(printable(basename(path)));
    // A post cut off (network, Ctrl-C, crash) goes on where its upload stopped when the same command
    // runs again, and is made once (the same post id and time: the server answers the stored post).
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    const describe = {
      name: basename(path),
      mime,
      ...(mime.startsWith('image/') ? await photoPreview(path) : {}),
    };
    // Read in the chunks the upload asks for: never the whole file in memory.
    const source = await fileSource(path);
    let post: Awaited<ReturnType<ChannelClient['postFile']>>;
    try {
      post = await resumableUpload(
        ctx,
        path,
        stat,
        { channelId: view.channelId },
        ({ resume, onStarted, target }) =>
          client.postFile(
            { baseUrl: ctx.profile.server(), token: session.token },
            view.channelId,
            source,
            describe,
            {
              signal: controller.signal,
              onProgress: (sent, total) => bar.update(sent, total),
              ...(resume ? { resume } : {}),
              onStarted,
              ...('channel' in target
                ? { postId: target.channel.postId, sentAtMs: target.channel.sentAtMs }
                : {}),
            },
          ),
      );
    } finally {
      bar.finish();
      process.off('SIGINT', onSignal);
    }
    show(ctx.io, ctx.json, post, () => [
      `Posted #${post.seq} (${post.postId}) to @${printable(view.name)}: ${printable(post.file.name)} (${post.file.mime}, ${humanBytes(post.file.size)}); ${PUBLIC_NOTE} (the file's key is in the post: every subscriber can open it).`,
    ]);
    return;
  }
  const post = await client.post(view.channelId, {
    v: 1,
    type: 'text',
    text: text.join(' '),
    sentAtMs: Date.now(),
  });
  show(ctx.io, ctx.json, post, () => [
    `Posted #${post.seq} (${post.postId}) to @${printable(view.name)}: ${PUBLIC_NOTE}.`,
  ]);
}

/**
 * `courier channel download <channel> <postId> [path]`: fetches a post's file and decrypts it with
 * the key in the (signature-checked) post into `path` (default: its name in the current folder); the
 * digest is checked at the end and a damaged file is removed, not kept.
 */
export async function downloadChannelFile(
  ctx: CommandContext,
  channel: string,
  postId: string,
  path: string | undefined,
): Promise<void> {
  const session = ctx.profile.requireSession();
  const client = channelClient(ctx);
  const view = await client.show(channel);
  const post = await findPost(client, view.channelId, postId);
  if (post.kind !== 'verified') throw new CourierError('CHANNEL_POST_BAD_SIGNATURE');
  const file = channelFileOf(post);
  if (!file) throw new CourierError('MEDIA_NOT_FOUND', { message: 'That post carries no file.' });
  const { target } = await saveDecryptedFile(
    { baseUrl: ctx.profile.server(), token: session.token },
    file,
    path,
  );
  show(ctx.io, ctx.json, { path: target, size: file.size, mime: file.mime }, () => [
    `Saved ${printable(file.name)} (${file.mime}, ${humanBytes(file.size)}) from @${printable(view.name)} to ${printable(target)}.`,
  ]);
}

async function findPost(client: ChannelClient, channelId: string, postId: string) {
  let after = 0;
  for (;;) {
    const page = await client.posts(channelId, after);
    const found = page.posts.find((p) => p.postId === postId || p.postId.startsWith(postId));
    if (found) return found;
    if (page.posts.length === 0) break;
    after = page.posts.at(-1)!.seq;
  }
  throw new CourierError('CHANNEL_POST_NOT_FOUND');
}

/**
 * `courier channel edit`: with --title and/or --description the channel's own text (the owner and
 * admins), otherwise a post (<postId> <text>); one or the other per call.
 */
export async function editChannel(
  ctx: CommandContext,
  channel: string,
  postId: string | undefined,
  text: string[],
  options: { title?: string; description?: string },
): Promise<void> {
  const info = {
    ...(options.title !== undefined ? { title: options.title } : {}),
    ...(options.description !== undefined ? { description: options.description } : {}),
  };
  if (Object.keys(info).length === 0) {
    if (postId === undefined || text.length === 0)
      throw new CourierError('REQ_INVALID', {
        message: 'Give a post id and its new text, or --title and/or --description for the channel.',
      });
    return editChannelPost(ctx, channel, postId, text);
  }
  if (postId !== undefined)
    throw new CourierError('REQ_INVALID', {
      message: "Edit a post or the channel's title and description, not both at once.",
    });
  const client = channelClient(ctx);
  const view = await client.editInfo((await client.show(channel)).channelId, info);
  show(ctx.io, ctx.json, view, () => [
    `Edited ${describeChannel(view)}.`,
    ...(view.description ? [`Description: ${printable(view.description)}`] : ['No description.']),
  ]);
}

export async function editChannelPost(
  ctx: CommandContext,
  channel: string,
  postId: string,
  text: string[],
): Promise<void> {
  const client = channelClient(ctx);
  const view = await client.show(channel);
  const post = await findPost(client, view.channelId, postId);
  if (post.kind !== 'verified') throw new CourierError('CHANNEL_POST_BAD_SIGNATURE');
  const edited = await client.edit(view.channelId, post.postId, post.revision, {
    v: 1,
    type: 'text',
    text: text.join(' '),
    sentAtMs: Date.now(),
  });
  show(ctx.io, ctx.json, edited, () => [`Edited ${post.postId} in @${printable(view.name)}.`]);
}

export async function deleteChannelPost(ctx: CommandContext, channel: string, postId: string): Promise<void> {
  const client = channelClient(ctx);
  const view = await client.show(channel);
  const post = await findPost(client, view.channelId, postId);
  if (post.kind !== 'verified') throw new CourierError('CHANNEL_POST_BAD_SIGNATURE');
  const deleted = await client.delete(view.channelId, post.postId, post.revision);
  show(ctx.io, ctx.json, deleted, () => [`Deleted ${post.postId} from @${printable(view.name)}.`]);
}

export async function subscribeChannel(ctx: CommandContext, target: string): Promise<void> {
  const client = channelClient(ctx);
  const at = target.indexOf(INVITE_MARK);
  const channel = await client.subscribe(
    at >= 0 ? { invite: target.slice(at + INVITE_MARK.length) } : { name: target },
  );
  show(ctx.io, ctx.json, channel, () => [
    `Subscribed to ${describeChannel(channel)}.`,
    `Pinned its key: ${channelKeyText(channel.publicKey)}. Every post is checked against it.`,
    `Its posts are ${PUBLIC_NOTE}; they show in "courier listen" and "courier channel show @${channel.name}".`,
  ]);
}

export async function unsubscribeChannel(ctx: CommandContext, channel: string): Promise<void> {
  const client = channelClient(ctx);
  const view = await client.show(channel);
  await client.unsubscribe(view.channelId);
  show(ctx.io, ctx.json, { unsubscribed: view.channelId }, () => [
    `Unsubscribed from @${printable(view.name)}.`,
  ]);
}

/** The token of an invite link (`…/#channel-invite=<token>`), or the text itself when it is a bare token. */
function inviteToken(text: string): string {
  const at = text.indexOf(INVITE_MARK);
  return at >= 0 ? text.slice(at + INVITE_MARK.length) : text.trim();
}

/**
 * `courier channel show --invite <link or token>` (or an invite link as the channel): what the link
 * leads to, before joining — nothing is subscribed or pinned.
 */
async function showInvite(ctx: CommandContext, client: ChannelClient, invite: string): Promise<void> {
  const preview = await client.previewInvite(inviteToken(invite));
  const joined = preview.myRole !== null;
  show(ctx.io, ctx.json, { preview }, () => [
    `Invitation to @${printable(preview.name)}  "${printable(preview.title)}"  ${preview.visibility}, ${preview.subscriberCount} subscriber${preview.subscriberCount === 1 ? '' : 's'}`,
    ...(preview.description ? preview.description.split('\n').map(printable) : []),
    `Key: ${preview.keyFingerprint} (joining pins it; every post is checked against it). Posts are ${PUBLIC_NOTE}.`,
    joined
      ? `You are already in it (${preview.myRole}).`
      : `Not joined yet: "courier channel subscribe '${printable(invite)}'" joins.`,
  ]);
}

/**
 * Without a channel: the channels subscribed to. With one: the channel and its posts, each checked.
 * With `--invite` (or an invite link as the channel): the invite's preview, without joining.
 */
export async function showChannel(
  ctx: CommandContext,
  channel: string | undefined,
  options: { last?: string; invite?: string },
): Promise<void> {
  const client = channelClient(ctx);
  const invite = options.invite ?? (channel?.includes(INVITE_MARK) ? channel : undefined);
  if (invite !== undefined) {
    await showInvite(ctx, client, invite);
    return;
  }
  if (channel === undefined) {
    const channels = await client.list();
    show(ctx.io, ctx.json, channels, () =>
      channels.length === 0
        ? ['No channels. "courier channel subscribe @name" follows one; "courier channel create" makes one.']
        : channels.map(describeChannel),
    );
    return;
  }
  const view = await client.show(channel);
  const posts: ChannelPost[] = [];
  let after = 0;
  for (;;) {
    const page = await client.posts(view.channelId, after);
    posts.push(...page.posts);
    if (page.posts.length === 0 || page.posts.at(-1)!.seq >= page.lastSeq) break;
    after = page.posts.at(-1)!.seq;
  }
  // An edit moves a post to a later position: each post once, at its newest revision.
  const newest = new Map<string, ChannelPost>();
  for (const post of posts) newest.set(post.postId, post);
  const last = Number(options.last ?? 20);
  const shown = [...newest.values()].sort((a, b) => a.seq - b.seq).slice(-Math.max(1, last));
  show(ctx.io, ctx.json, { channel: view, posts: shown }, () => [
    describeChannel(view),
    ...(view.description ? view.description.split('\n').map(printable) : []),
    `Key: ${channelKeyText(view.publicKey)}. Posts are ${PUBLIC_NOTE}.`,
    ...shown.map((p) => describePost(view.name, p)),
  ]);
}

export async function channelInvite(
  ctx: CommandContext,
  channel: string,
  options: { revoke?: string; list?: boolean },
): Promise<void> {
  const client = channelClient(ctx);
  const view = await client.show(channel);
  if (options.revoke !== undefined) {
    await client.revokeInvite(view.channelId, options.revoke);
    show(ctx.io, ctx.json, { revoked: options.revoke }, () => [
      `Revoked invite ${options.revoke}: it admits no one from now on (people who joined with it stay).`,
    ]);
    return;
  }
  if (options.list) {
    const invites = await client.invites(view.channelId);
    show(ctx.io, ctx.json, invites, () =>
      invites.length === 0
        ? ['No invite links.']
        : invites.map(
            (i) =>
              `${i.inviteId}  made ${new Date(i.createdAtMs).toISOString()}${i.revokedAtMs === null ? '' : `, revoked ${new Date(i.revokedAtMs).toISOString()}`}`,
          ),
    );
    return;
  }
  const invite = await client.createInvite(view.channelId);
  const link = inviteLink(ctx.profile.server(), invite.token);
  show(ctx.io, ctx.json, { ...invite, link }, () => [
    link,
    `Invite ${invite.inviteId} to @${printable(view.name)}: "courier channel subscribe '${link}'". Revoke it with "courier channel invite @${view.name} --revoke ${invite.inviteId}".`,
  ]);
}

/** What a person reads about a channel key handed to this device (imported, or refused and why). */
export function describeKeyHandover(outcome: ChannelKeyOutcome, from: string): string {
  if (outcome.kind === 'imported')
    return `channel key received for @${printable(outcome.name)} from ${printable(from)}: this device can now post to it`;
  const why = {
    unknown_channel: 'no such channel is visible to you',
    not_admin: 'you are not an admin of that channel',
    not_owner: 'the sender is not the channel owner',
    key_mismatch: 'the key is not the channel key',
  }[outcome.reason];
  return `(a channel key for @${printable(outcome.name)} from ${printable(from)} was refused and not kept: ${why})`;
}

/**
 * Imports channel keys the channel's owner hands to this device in its chats, as a client of this
 * device decrypts them, and says so.
 */
export function followChannelKeys(ctx: CommandContext, secure: SecureClient): void {
  const client = channelClient(ctx);
  const names = new Names(ctx.profile.http());
  client.followKeys(secure);
  client.on('key_handover', (outcome) => {
    void names.of(outcome.fromAccountId).then((from) => {
      ctx.io.out(ctx.json ? safeJson({ channelKey: outcome }) : describeKeyHandover(outcome, from));
    });
  });
  client.on('problem', (error) =>
    ctx.io.err(
      `(a channel key arrived but could not be checked now: ${error.code}; it is kept in this profile and checked again when the server can be reached — on reconnect, or by the next command that receives)`,
    ),
  );
}
