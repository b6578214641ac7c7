/**
 * Message actions in the worker (issue 14): what a message row shows of them (quote, forwarded,
 * edited, deleted, reactions) and the one entry the page calls to reply, forward, edit, delete for
 * everyone or react. The SDK encrypts each as a content type of its own; the server learns nothing new.
 */
import type { MessageRef, SecureClient, StoredMessage } from '@courier/sdk';

/** What a message row shows of actions, and what the person may do with it. */
export interface MessageMarks {
  ref: MessageRef;
  /** Sent by this account: it may be edited and deleted for everyone. */
  mine: boolean;
  /** A text that can take an edit, a reply with a quote, a forward. */
  text: boolean;
  /** A text or a file (photo, video, voice note): it can be forwarded to another chat. */
  forwardable: boolean;
  replyTo?: { name: string; quote: string };
  forwardedFrom?: string;
  edited?: boolean;
  deleted?: boolean;
  reactions?: { emoji: string; count: number; mine: boolean }[];
}

export type MessageActionRequest =
  | { kind: 'reply'; ref: MessageRef; text: string }
  | { kind: 'forward'; ref: MessageRef; toGroupId: string }
  | { kind: 'edit'; ref: MessageRef; text: string }
  | { kind: 'delete'; ref: MessageRef }
  | { kind: 'react'; ref: MessageRef; emoji: string; on: boolean };

export async function marksOf(
  m: StoredMessage,
  me: string,
  nameOf: (accountId: string) => Promise<string>,
): Promise<MessageMarks> {
  return {
    ref: { senderAccountId: m.senderAccountId, senderDeviceId: m.senderDeviceId, clientMsgId: m.clientMsgId },
    mine: m.senderAccountId === me,
    text: !m.deleted && m.text.length > 0 && m.file === undefined,
    forwardable: !m.deleted && m.roster === undefined && (m.text.length > 0 || m.file !== undefined),
    ...(m.replyTo
      ? { replyTo: { name: await nameOf(m.replyTo.senderAccountId), quote: m.replyTo.quote } }
      : {}),
    ...(m.forwarded ? { forwardedFrom: await nameOf(m.forwarded.accountId) } : {}),
    ...(m.edited ? { edited: true } : {}),
    ...(m.deleted ? { deleted: true } : {}),
    ...(m.reactions?.length
      ? {
          reactions: m.reactions.map((r) => ({
            emoji: r.emoji,
            count: r.by.length,
            mine: r.by.includes(me),
          })),
        }
      : {}),
  };
}

/**
 * Runs an action; resolves once the server stored it (this device shows it at once). A deletion
 * answers the notice to show: it cannot be guaranteed on modified clients.
 */
export async function runMessageAction(
  client: SecureClient,
  groupId: string,
  request: MessageActionRequest,
): Promise<string> {
  switch (request.kind) {
    case 'reply':
      await client.reply(groupId, request.ref, request.text);
      return '';
    case 'forward':
      await client.forward(groupId, request.ref, request.toGroupId);
      return '';
    case 'edit':
      await client.edit(groupId, request.ref, request.text);
      return '';
    case 'delete':
      return (await client.deleteForEveryone(groupId, request.ref)).notice;
    case 'react':
      await (request.on
        ? client.react(groupId, request.ref, request.emoji)
        : client.unreact(groupId, request.ref, request.emoji));
      return '';
  }
}
