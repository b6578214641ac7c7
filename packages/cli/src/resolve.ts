import { CourierError, type GroupView, isId } from '@courier/protocol';
import type { CourierHttp } from '@courier/sdk';

/** A person as typed on the command line. */
export type MemberRef =
  | { kind: 'username'; username: string }
  | { kind: 'phone'; phone: string }
  | { kind: 'account'; accountId: string };

/** A chat as typed on the command line. */
export type ChatRef =
  | { kind: 'id'; groupId: string }
  | { kind: 'direct'; with: MemberRef }
  | { kind: 'title'; title: string };

/** `@username`, `+phone` or an account id (a bare word is taken as a username). */
export function parseMemberRef(arg: string): MemberRef {
  const text = arg.trim();
  if (text.startsWith('+')) return { kind: 'phone', phone: text };
  if (isId('account', text)) return { kind: 'account', accountId: text };
  const username = text.startsWith('@') ? text.slice(1) : text;
  if (username.length === 0)
    throw new CourierError('REQ_INVALID', {
      message: `"${arg}" names nobody: give @username, +phone or an account id.`,
    });
  return { kind: 'username', username };
}

/** A chat id, `@username` / `+phone` / an account id (the direct chat), or a group title. */
export function parseChatRef(arg: string): ChatRef {
  const text = arg.trim();
  if (isId('group', text)) return { kind: 'id', groupId: text };
  if (text.startsWith('@') || text.startsWith('+') || isId('account', text))
    return { kind: 'direct', with: parseMemberRef(text) };
  if (text.length === 0)
    throw new CourierError('REQ_INVALID', { message: 'Name a chat: an id, a group title or @user.' });
  return { kind: 'title', title: text };
}

/**
 * Picks one of my chats by id or by group title: an exact title first, then one that differs
 * only in case; two groups with that title are an error that lists their ids.
 */
export function pickChat(chats: readonly GroupView[], ref: Exclude<ChatRef, { kind: 'direct' }>): GroupView {
  if (ref.kind === 'id') {
    const found = chats.find((c) => c.groupId === ref.groupId);
    if (!found)
      throw new CourierError('GROUP_NOT_FOUND', { message: `You are not in a chat ${ref.groupId}.` });
    return found;
  }
  const groups = chats.filter((c) => c.kind === 'group');
  const exact = groups.filter((g) => g.title === ref.title);
  const matches =
    exact.length > 0 ? exact : groups.filter((g) => g.title.toLowerCase() === ref.title.toLowerCase());
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new CourierError('GROUP_NOT_FOUND', {
      message: `Several of your groups are called "${ref.title}": use an id (${matches.map((g) => g.groupId).join(', ')}).`,
    });
  }
  throw new CourierError('GROUP_NOT_FOUND', {
    message: `You have no chat "${ref.title}": give a chat id, a group title or @user.`,
  });
}

type Api = Pick<CourierHttp, 'lookup' | 'groups'>;

/**
 * Opens (or finds) the direct chat with a person. It must be `SecureClient.openDirect` (see
 * `secureDirectOpener`): the server's chat alone has no encryption group, and nothing can be sent
 * in it until one is made.
 */
export type DirectOpener = (accountId: string) => Promise<GroupView>;

/** Finds a person's account id by `@username`, `+phone` or account id. */
export async function resolveAccount(http: Api, who: string): Promise<string> {
  const ref = parseMemberRef(who);
  switch (ref.kind) {
    case 'account':
      return ref.accountId;
    case 'phone':
      return (await http.lookup({ phone: ref.phone })).accountId;
    case 'username':
      return (await http.lookup({ username: ref.username })).accountId;
  }
}

/**
 * Finds one of my chats by id, by group title (unique among my chats), or by the other person
 * for a direct chat, which `openDirect` opens (with its encryption group) if it does not exist yet.
 */
export async function resolveChat(http: Api, chat: string, openDirect: DirectOpener): Promise<GroupView> {
  const ref = parseChatRef(chat);
  if (ref.kind === 'direct') {
    const accountId = ref.with.kind === 'account' ? ref.with.accountId : await resolveAccount(http, chat);
    return openDirect(accountId);
  }
  return pickChat(await http.groups(), ref);
}
