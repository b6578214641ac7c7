import { CourierError, isId, type RequestView } from '@courier/protocol';
import type { CourierHttp } from '@courier/sdk';
import type { CommandContext } from '../context.ts';
import { Names } from '../names.ts';
import { show } from '../output.ts';
import { parseChatRef, pickChat, resolveAccount } from '../resolve.ts';
import { withSecureClient } from '../secure-session.ts';
import { printable } from '../terminal-text.ts';

/** What waits for my consent: message requests (direct chats others opened) and group invitations. */
export async function listRequests(ctx: CommandContext): Promise<void> {
  ctx.profile.requireSession();
  const http = ctx.profile.http();
  const names = new Names(http);
  const requests = await http.requests();
  const lines = await Promise.all(
    requests.map(async (r) => {
      const from = printable(await names.of(r.fromAccountId));
      return r.type === 'direct'
        ? `${r.groupId}  message request from ${from}`
        : `${r.groupId}  invitation to "${printable(r.title)}" (${r.memberCount} members) from ${from}`;
    }),
  );
  show(ctx.io, ctx.json, requests, () =>
    lines.length === 0
      ? ['No message requests or invitations.']
      : [...lines, '"courier accept <chat|@user>" or "courier decline <chat|@user>"; "courier block @user".'],
  );
}

/** The request a command line names: a chat id, or the person who sent it (their direct chat first). */
async function pickRequest(http: CourierHttp, arg: string): Promise<RequestView> {
  const requests = await http.requests();
  const ref = parseChatRef(arg);
  let found: RequestView | undefined;
  if (ref.kind === 'id') found = requests.find((r) => r.groupId === ref.groupId);
  else if (ref.kind === 'direct') {
    const from = await resolveAccount(http, arg);
    const theirs = requests.filter((r) => r.fromAccountId === from);
    found = theirs.find((r) => r.type === 'direct') ?? theirs[0];
  } else {
    const titled = requests.filter((r) => r.type === 'invitation' && r.title === ref.title);
    if (titled.length > 1)
      throw new CourierError('CONSENT_REQUEST_NOT_FOUND', {
        message: `Several invitations are called "${ref.title}": use an id (${titled.map((r) => r.groupId).join(', ')}).`,
      });
    found = titled[0];
  }
  if (!found)
    throw new CourierError('CONSENT_REQUEST_NOT_FOUND', {
      message: `No message request or invitation "${arg}" waits for you ("courier requests" lists them).`,
    });
  return found;
}

export async function acceptRequest(ctx: CommandContext, arg: string): Promise<void> {
  ctx.profile.requireSession();
  const http = ctx.profile.http();
  const request = await pickRequest(http, arg);
  const chat = await http.acceptRequest(request.groupId);
  show(ctx.io, ctx.json, chat, () => [
    request.type === 'direct'
      ? `Accepted: ${chat.groupId} is now a chat with a contact.`
      : `You joined "${printable(chat.title)}" (${chat.memberCount} members); its messages reach this device once an admin's device adds it.`,
  ]);
}

export async function declineRequest(ctx: CommandContext, arg: string): Promise<void> {
  ctx.profile.requireSession();
  const http = ctx.profile.http();
  const request = await pickRequest(http, arg);
  await withSecureClient(ctx, ({ client }) => client.declineRequest(request.groupId), { prepareOnly: true });
  show(ctx.io, ctx.json, { groupId: request.groupId, declined: true }, () => [
    `Declined ${request.groupId}; the sender is not told.`,
  ]);
}

export async function block(ctx: CommandContext, who: string): Promise<void> {
  ctx.profile.requireSession();
  const http = ctx.profile.http();
  const accountId = await resolveAccount(http, who);
  await withSecureClient(ctx, ({ client }) => client.block(accountId), { prepareOnly: true });
  show(ctx.io, ctx.json, { accountId, blocked: true }, () => [
    `Blocked ${who}: their messages, invitations and lookups reach you no more, and they are not told.`,
  ]);
}

export async function unblock(ctx: CommandContext, who: string): Promise<void> {
  ctx.profile.requireSession();
  const http = ctx.profile.http();
  const accountId = isId('account', who) ? who : await resolveAccount(http, who);
  await http.unblock(accountId);
  show(ctx.io, ctx.json, { accountId, blocked: false }, () => [
    `Unblocked ${who}. What they sent while blocked stays undelivered.`,
  ]);
}

export async function listBlocks(ctx: CommandContext): Promise<void> {
  ctx.profile.requireSession();
  const http = ctx.profile.http();
  const names = new Names(http);
  const blocks = await http.blocks();
  const lines = await Promise.all(
    blocks.map(async (b) => `${b.accountId}  ${printable(await names.of(b.accountId))}`),
  );
  show(ctx.io, ctx.json, blocks, () => (lines.length === 0 ? ['You have blocked nobody.'] : lines));
}

/**
 * Leaves any chat: a group, a direct chat (the contact ends) or a message request (declined,
 * silently). `@user` names the direct chat with them; one that does not exist is not made to be left.
 */
export async function leave(ctx: CommandContext, arg: string): Promise<void> {
  ctx.profile.requireSession();
  const http = ctx.profile.http();
  const ref = parseChatRef(arg);
  const chats = await http.groups();
  let groupId: string | undefined;
  if (ref.kind === 'direct') {
    const other = await resolveAccount(http, arg);
    for (const chat of chats.filter((c) => c.kind === 'direct')) {
      const { members } = await http.group(chat.groupId);
      if (members.some((m) => m.accountId === other)) groupId = chat.groupId;
    }
  } else groupId = pickChat(chats, ref).groupId;
  if (!groupId) throw new CourierError('GROUP_NOT_FOUND', { message: `You have no chat "${arg}".` });
  const id = groupId;
  await withSecureClient(ctx, ({ client }) => client.leave(id), { prepareOnly: true });
  show(ctx.io, ctx.json, { groupId: id, left: true }, () => [`You left ${arg}.`]);
}
