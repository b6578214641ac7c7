import { CourierError, type GroupView, isId } from '@courier/protocol';
import type { CourierHttp } from '@courier/sdk';

/** Finds a person by `@username`, `+phone` or account id. */
export async function resolveAccount(http: CourierHttp, who: string): Promise<string> {
  if (who.startsWith('+')) return (await http.lookup({ phone: who })).accountId;
  if (who.startsWith('@')) return (await http.lookup({ username: who.slice(1) })).accountId;
  if (isId('account', who)) return who;
  return (await http.lookup({ username: who })).accountId;
}

/**
 * Finds one of my chats by id, by group title (unique among my chats), or by the other person
 * (`@username` / `+phone`) for a direct chat, which is opened if it does not exist yet.
 */
export async function resolveChat(http: CourierHttp, chat: string): Promise<GroupView> {
  if (chat.startsWith('@') || chat.startsWith('+')) {
    const accountId = await resolveAccount(http, chat);
    const direct = await http.openDirect(accountId);
    return direct;
  }
  const groups = await http.groups();
  if (isId('group', chat)) {
    const found = groups.find((g) => g.groupId === chat);
    if (!found) throw new CourierError('GROUP_NOT_FOUND');
    return found;
  }
  const byTitle = groups.filter((g) => g.kind === 'group' && g.title.toLowerCase() === chat.toLowerCase());
  if (byTitle.length === 1) return byTitle[0]!;
  if (byTitle.length > 1) {
    throw new CourierError('GROUP_NOT_FOUND', {
      message: `Several of your groups are called "${chat}": use an id (${byTitle.map((g) => g.groupId).join(', ')}).`,
    });
  }
  throw new CourierError('GROUP_NOT_FOUND', {
    message: `No chat "${chat}": give a chat id, a group title or @user.`,
  });
}
