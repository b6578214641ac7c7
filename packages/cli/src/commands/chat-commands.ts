import type { GroupDetailView, GroupView } from '@courier/protocol';
import type { CommandContext } from '../context.ts';
import { Names } from '../names.ts';
import { show } from '../output.ts';
import { printable } from '../terminal-text.ts';
import { resolveAccount, resolveChat } from '../resolve.ts';
import { secureDirectOpener, withSecureClient } from '../secure-session.ts';

/** A chat's title as shown (a direct chat is titled by the other person), safe for a terminal. */
async function chatTitle(names: Names, me: string, chat: GroupView | GroupDetailView): Promise<string> {
  if (chat.kind === 'group') return printable(chat.title);
  const other = 'members' in chat ? chat.members.find((m) => m.accountId !== me)?.accountId : undefined;
  return other ? printable(await names.of(other)) : 'direct chat';
}

export async function listChats(ctx: CommandContext): Promise<void> {
  const session = ctx.profile.requireSession();
  const http = ctx.profile.http();
  const names = new Names(http);
  const chats = await Promise.all(
    (await http.groups()).map(async (chat) => {
      const detail = chat.kind === 'direct' ? await http.group(chat.groupId) : chat;
      return { ...chat, displayTitle: await chatTitle(names, session.accountId, detail) };
    }),
  );
  show(ctx.io, ctx.json, chats, () =>
    chats.length === 0
      ? ['No chats yet: "courier dm @user" or "courier group create <title> [members…]".']
      : chats.map(
          (c) =>
            `${c.groupId}  ${c.kind === 'direct' ? 'direct        ' : `group ${`(${c.memberCount})`.padEnd(8)}`}  ${c.displayTitle}${c.myRole === 'member' || c.kind === 'direct' ? '' : `  [${c.myRole}]`}`,
        ),
  );
}

export async function openDirect(ctx: CommandContext, who: string): Promise<void> {
  ctx.profile.requireSession();
  const http = ctx.profile.http();
  const other = await resolveAccount(http, who);
  const chat = await withSecureClient(ctx, ({ client }) => client.openDirect(other));
  show(ctx.io, ctx.json, chat, () => [`Direct chat with ${who}: ${chat.groupId}`]);
}

export async function createGroup(ctx: CommandContext, title: string, members: string[]): Promise<void> {
  ctx.profile.requireSession();
  const http = ctx.profile.http();
  const ids = await Promise.all(members.map((m) => resolveAccount(http, m)));
  const group = await withSecureClient(ctx, ({ client }) => client.createGroup(title, ids));
  show(ctx.io, ctx.json, group, () => [
    `Created "${printable(group.title)}": ${group.groupId} (${group.memberCount} members)`,
  ]);
}

export async function showGroup(ctx: CommandContext, chat: string): Promise<void> {
  const session = ctx.profile.requireSession();
  const http = ctx.profile.http();
  const detail = await http.group((await resolveChat(http, chat, secureDirectOpener(ctx))).groupId);
  const names = new Names(http);
  const title = await chatTitle(names, session.accountId, detail);
  const members = await Promise.all(
    detail.members.map(async (m) => `  ${m.role.padEnd(6)} ${printable(await names.of(m.accountId))}`),
  );
  show(ctx.io, ctx.json, detail, () => [
    `${title} (${detail.kind}, ${detail.memberCount} members) ${detail.groupId}`,
    ...members,
  ]);
}

export async function addMembers(ctx: CommandContext, chat: string, members: string[]): Promise<void> {
  ctx.profile.requireSession();
  const http = ctx.profile.http();
  const group = await resolveChat(http, chat, secureDirectOpener(ctx));
  const ids = await Promise.all(members.map((m) => resolveAccount(http, m)));
  const detail = await withSecureClient(ctx, ({ client }) => client.addMembers(group.groupId, ids));
  show(ctx.io, ctx.json, detail, () => [`Added ${members.join(', ')}: ${detail.memberCount} members now.`]);
}

export async function removeMember(ctx: CommandContext, chat: string, member: string): Promise<void> {
  ctx.profile.requireSession();
  const http = ctx.profile.http();
  const group = await resolveChat(http, chat, secureDirectOpener(ctx));
  const accountId = await resolveAccount(http, member);
  await withSecureClient(ctx, ({ client }) => client.removeMember(group.groupId, accountId));
  show(ctx.io, ctx.json, { groupId: group.groupId, removed: accountId }, () => [
    `Removed ${member} from ${printable(group.title) || group.groupId}.`,
  ]);
}

export async function leaveGroup(ctx: CommandContext, chat: string): Promise<void> {
  ctx.profile.requireSession();
  const http = ctx.profile.http();
  const group = await resolveChat(http, chat, secureDirectOpener(ctx));
  await withSecureClient(ctx, ({ client }) => client.leave(group.groupId), { prepareOnly: true });
  show(ctx.io, ctx.json, { groupId: group.groupId, left: true }, () => [
    `You left ${printable(group.title) || group.groupId}.`,
  ]);
}

export async function setRole(
  ctx: CommandContext,
  chat: string,
  member: string,
  role: 'admin' | 'member',
): Promise<void> {
  ctx.profile.requireSession();
  const http = ctx.profile.http();
  const group = await resolveChat(http, chat, secureDirectOpener(ctx));
  const detail = await http.setRole(group.groupId, await resolveAccount(http, member), role);
  show(ctx.io, ctx.json, detail, () => [
    `${member} is now ${role === 'admin' ? 'an admin' : 'a member'} of ${printable(group.title) || group.groupId}.`,
  ]);
}
