import { CourierError } from '@courier/protocol';
import type { Accepted, SecureClient, StoredMessage } from '@courier/sdk';
import type { CommandContext } from '../context.ts';
import { messageId } from '../message-printer.ts';
import { resolveChat } from '../resolve.ts';
import { secureDirectOpener, withSecureClient } from '../secure-session.ts';

/**
 * Runs a message action in a chat on a message named as history shows it (`#12`, `12`, or the id of
 * a message not stored by the server yet); returns once the server stored the action.
 */
async function onMessage(
  ctx: CommandContext,
  chat: string,
  id: string,
  act: (
    client: SecureClient,
    groupId: string,
    message: StoredMessage,
  ) => Promise<Accepted | { accepted: Accepted; notice: string }>,
  done: (message: StoredMessage) => string,
): Promise<void> {
  ctx.profile.requireSession();
  const group = await resolveChat(ctx.profile.http(), chat, secureDirectOpener(ctx));
  await withSecureClient(ctx, async ({ client }) => {
    const message = await client.findMessage(group.groupId, id);
    const result = await act(client, group.groupId, message);
    const accepted = 'accepted' in result ? result.accepted : result;
    if (ctx.json)
      ctx.io.out(JSON.stringify({ groupId: group.groupId, message: messageId(message), ...accepted }));
    else ctx.io.out(done(message));
    // Said plainly, on every delete: a modified client may keep the message.
    if ('notice' in result) ctx.io.err(result.notice);
  });
}

/** How long `forward` waits for this device to join the target chat's encryption group. */
const JOIN_WAIT_MS = 10_000;

const words = (text: string[]) => {
  const joined = text.join(' ');
  if (joined.trim().length === 0) throw new CourierError('REQ_INVALID', { message: 'Type some text.' });
  return joined;
};

/** `courier reply <chat> <message> <text...>`: a text that quotes a message. */
export function reply(ctx: CommandContext, chat: string, id: string, text: string[]): Promise<void> {
  return onMessage(
    ctx,
    chat,
    id,
    (client, groupId, message) => client.reply(groupId, message, words(text)),
    (message) => `Replied to ${messageId(message)} in ${chat}.`,
  );
}

/** `courier edit <chat> <message> <text...>`: a new text for a message this account sent. */
export function edit(ctx: CommandContext, chat: string, id: string, text: string[]): Promise<void> {
  return onMessage(
    ctx,
    chat,
    id,
    (client, groupId, message) => client.edit(groupId, message, words(text)),
    (message) => `Edited ${messageId(message)} in ${chat}.`,
  );
}

/** `courier delete <chat> <message>`: deletes a message this account sent, for everyone. */
export function deleteMessage(ctx: CommandContext, chat: string, id: string): Promise<void> {
  return onMessage(
    ctx,
    chat,
    id,
    (client, groupId, message) => client.deleteForEveryone(groupId, message),
    (message) => `Deleted ${messageId(message)} in ${chat} for everyone.`,
  );
}

/** `courier react <chat> <message> <emoji> [--remove]`: adds (or takes back) an emoji reaction. */
export function react(
  ctx: CommandContext,
  chat: string,
  id: string,
  emoji: string,
  options: { remove?: boolean },
): Promise<void> {
  return onMessage(
    ctx,
    chat,
    id,
    (client, groupId, message) =>
      options.remove ? client.unreact(groupId, message, emoji) : client.react(groupId, message, emoji),
    (message) =>
      options.remove
        ? `Took back ${emoji} on ${messageId(message)} in ${chat}.`
        : `Reacted ${emoji} to ${messageId(message)} in ${chat}.`,
  );
}

/**
 * `courier forward <chat> <message> <to>`: the message's text, or its file (photo, video, voice note,
 * any file: the same blob, bound to the other chat too, no upload), encrypted again for another chat.
 */
export async function forward(ctx: CommandContext, chat: string, id: string, to: string): Promise<void> {
  ctx.profile.requireSession();
  const target = await resolveChat(ctx.profile.http(), to, secureDirectOpener(ctx));
  let sentTo = '';
  await onMessage(
    ctx,
    chat,
    id,
    async (client, groupId, message) => {
      // A chat just opened by the other person: this device joins its encryption group as the
      // invitation arrives (moments after the client starts). Waited for, as `send` does.
      const deadline = Date.now() + JOIN_WAIT_MS;
      while ((await client.epoch(target.groupId)) === undefined && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      const accepted = await client.forward(groupId, message, target.groupId);
      sentTo = `#${accepted.seq}`;
      return accepted;
    },
    (message) => `Forwarded ${messageId(message)} to ${to} (${sentTo}).`,
  );
}
