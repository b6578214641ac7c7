import { printable } from '../terminal-text.ts';
import type { CommandContext } from '../context.ts';
import { show } from '../output.ts';
import { resolveAccount } from '../resolve.ts';
import { withSecureClient } from '../secure-session.ts';
import { channelClient } from './channel-commands.ts';

/**
 * `courier channel admin add <channel> <who>`: names an admin on the server and hands them the
 * channel key end to end, in the direct chat with them (their devices import it as it arrives, and
 * so do this account's other devices).
 */
export async function addChannelAdmin(ctx: CommandContext, channel: string, who: string): Promise<void> {
  const client = channelClient(ctx);
  const view = await client.show(channel);
  const accountId = await resolveAccount(ctx.profile.http(), who);
  // Resolves once the server stored the key message (and the chat's encryption group, if new).
  const { groupId } = await withSecureClient(ctx, ({ client: secure }) =>
    client.addAdmin(secure, view.channelId, accountId),
  );
  show(ctx.io, ctx.json, { channelId: view.channelId, admin: accountId, groupId }, () => [
    `${printable(who)} is now an admin of @${printable(view.name)}.`,
    `The channel key went to their devices end to end, in your direct chat; their Courier imports it when it arrives ("channel key received for @${printable(view.name)}").`,
  ]);
}

/**
 * `courier channel admin list <channel>`: the owner and the admins, by @username and display name
 * (never a phone number); only the owner and admins may ask (CHANNEL_NOT_ADMIN otherwise).
 */
export async function listChannelAdmins(ctx: CommandContext, channel: string): Promise<void> {
  const client = channelClient(ctx);
  const view = await client.show(channel);
  const admins = await client.admins(view.channelId);
  show(ctx.io, ctx.json, { channelId: view.channelId, admins }, () => [
    `Owner and admins of @${printable(view.name)}:`,
    ...admins.map(
      (a) =>
        `${a.role === 'owner' ? 'owner' : 'admin'}  ${a.username ? `@${printable(a.username)}` : '(no username)'}${a.displayName ? `  ${printable(a.displayName)}` : ''}  since ${new Date(a.sinceMs).toISOString().slice(0, 10)}  (${a.accountId})`,
    ),
  ]);
}

/** `courier channel admin remove <channel> <who>`: the server refuses their posts from now on. */
export async function removeChannelAdmin(ctx: CommandContext, channel: string, who: string): Promise<void> {
  const client = channelClient(ctx);
  const view = await client.show(channel);
  const accountId = await resolveAccount(ctx.profile.http(), who);
  await client.removeAdmin(view.channelId, accountId);
  show(ctx.io, ctx.json, { channelId: view.channelId, removed: accountId }, () => [
    `${printable(who)} is no longer an admin of @${printable(view.name)}: the server refuses their posts from now on.`,
    'The channel key is shared and cannot be taken back from their devices; a channel that needs a new key is a new channel.',
  ]);
}

/**
 * `courier channel admin send-key <channel> [who]`: the key again, to an admin (a device they added
 * since, or one that missed it) or, without `who`, to this account's other devices.
 */
export async function sendChannelKey(
  ctx: CommandContext,
  channel: string,
  who: string | undefined,
): Promise<void> {
  const session = ctx.profile.requireSession();
  const client = channelClient(ctx);
  const view = await client.show(channel);
  const accountId = who === undefined ? session.accountId : await resolveAccount(ctx.profile.http(), who);
  const { groupId } = await withSecureClient(ctx, ({ client: secure }) =>
    client.handOverKey(secure, view.channelId, accountId),
  );
  show(ctx.io, ctx.json, { channelId: view.channelId, to: accountId, groupId }, () => [
    `Sent the key of @${printable(view.name)} to ${who === undefined ? 'your other devices' : printable(who)} end to end.`,
  ]);
}
