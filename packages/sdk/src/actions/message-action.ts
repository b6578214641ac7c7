import type { ActionContent } from '../content/content-registry.ts';
import type { MessageRef } from '../content/message-ref.ts';
import type { Reaction, StoredMessage } from '../mls/mls-store.ts';

/** The most earlier texts kept per message (the oldest go first). */
export const MAX_EDIT_HISTORY = 50;
/** The most distinct emoji one message carries; further ones are ignored. */
export const MAX_REACTION_KINDS = 50;

/**
 * An edit, deletion or reaction as a device keeps it: who sent it (the MLS sender, checked against
 * the entry), where in the log, and what it does to which message.
 */
export type MessageAction = {
  groupId: string;
  /** Position in the chat's log (0 for one this device sent and the server has not stored yet). */
  seq: number;
  senderAccountId: string;
  senderDeviceId: string;
  clientMsgId: string;
  sentAtMs: number;
  target: MessageRef;
} & ({ kind: 'edit'; text: string } | { kind: 'delete' } | { kind: 'reaction'; emoji: string; on: boolean });

/** The action an edit, delete or reaction content makes, sent by `sender` at `seq`. */
export function actionOf(
  sender: Pick<MessageAction, 'groupId' | 'seq' | 'senderAccountId' | 'senderDeviceId' | 'clientMsgId'>,
  content: ActionContent,
): MessageAction {
  const base = { ...sender, sentAtMs: content.sentAtMs, target: content.target };
  if (content.type === 'edit') return { ...base, kind: 'edit', text: content.text };
  if (content.type === 'delete') return { ...base, kind: 'delete' };
  return { ...base, kind: 'reaction', emoji: content.emoji, on: content.on };
}

/** Whether an action may change this message at all (the receiving client's check, never the server's). */
export function mayApply(message: StoredMessage, action: MessageAction): boolean {
  if (message.groupId !== action.groupId) return false;
  if (message.senderDeviceId !== action.target.senderDeviceId) return false;
  if (message.clientMsgId !== action.target.clientMsgId) return false;
  if (message.roster || message.deleted) return false;
  if (action.kind === 'reaction') return true;
  // Only the message's own sender (the MLS sender identity, any of its devices) edits or deletes it.
  if (action.senderAccountId !== message.senderAccountId) return false;
  if (action.kind === 'edit')
    return message.file === undefined && message.sticker === undefined && message.unsupported === undefined;
  return true;
}

function react(reactions: readonly Reaction[], emoji: string, accountId: string, on: boolean): Reaction[] {
  const next = reactions.map((r) => ({ emoji: r.emoji, by: [...r.by] }));
  const found = next.find((r) => r.emoji === emoji);
  if (on) {
    if (found) {
      if (!found.by.includes(accountId)) found.by.push(accountId);
    } else if (next.length < MAX_REACTION_KINDS) next.push({ emoji, by: [accountId] });
    return next;
  }
  if (found) found.by = found.by.filter((a) => a !== accountId);
  return next.filter((r) => r.by.length > 0);
}

/**
 * The message after an action: the state machine every device store runs, the same on every
 * member's device. Anything not allowed (another person's edit or delete, an edit of a file, any
 * action on a deleted message or another message) leaves the message as it was.
 */
export function applyAction(message: StoredMessage, action: MessageAction): StoredMessage {
  if (!mayApply(message, action)) return message;
  if (action.kind === 'reaction') {
    const reactions = react(message.reactions ?? [], action.emoji, action.senderAccountId, action.on);
    const { reactions: _old, ...rest } = message;
    return reactions.length > 0 ? { ...rest, reactions } : rest;
  }
  if (action.kind === 'edit') {
    if (action.text === message.text) return message;
    const before = { text: message.text, atMs: message.edited?.atMs ?? message.sentAtMs };
    const earlier = [...(message.edited?.earlier ?? []), before].slice(-MAX_EDIT_HISTORY);
    return { ...message, text: action.text, edited: { atMs: action.sentAtMs, earlier } };
  }
  // Deleted: the content goes (text, file, sticker, quote, edit history, reactions); who and when stay.
  const {
    file: _file,
    sticker: _sticker,
    replyTo: _reply,
    forwarded: _forwarded,
    edited: _edited,
    reactions: _reactions,
    unsupported: _unsupported,
    ...rest
  } = message;
  return { ...rest, text: '', deleted: { atMs: action.sentAtMs } };
}

/** Actions kept aside for a message that arrived after them, in log order (sent ones, seq 0, last). */
export function inLogOrder(actions: readonly MessageAction[]): MessageAction[] {
  const at = (a: MessageAction) => a.seq || Number.MAX_SAFE_INTEGER;
  return [...actions].sort((a, b) => at(a) - at(b));
}
