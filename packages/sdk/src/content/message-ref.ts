/**
 * Which message an action (reply, edit, delete, reaction, forward) is about: its sender and the
 * client message id it was sent with. A device keeps each message under exactly these (with the
 * chat), so the reference finds it on every member's device. `senderAccountId` is what the receiving
 * client checks against the MLS sender of an edit or a delete.
 */
export interface MessageRef {
  senderAccountId: string;
  senderDeviceId: string;
  clientMsgId: string;
}

const MAX_ID = 128;

const isId = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= MAX_ID;

/** The reference inside content from another client, or undefined when it is not one. */
export function parseMessageRef(value: unknown): MessageRef | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { senderAccountId, senderDeviceId, clientMsgId } = value as Record<string, unknown>;
  if (!isId(senderAccountId) || !isId(senderDeviceId) || !isId(clientMsgId)) return undefined;
  return { senderAccountId, senderDeviceId, clientMsgId };
}

/** Only the three fields (a StoredMessage passed as a reference carries much more). */
export const refOf = (m: MessageRef): MessageRef => ({
  senderAccountId: m.senderAccountId,
  senderDeviceId: m.senderDeviceId,
  clientMsgId: m.clientMsgId,
});

/** Whether a message is the one a reference names. */
export const isRefOf = (ref: Pick<MessageRef, 'senderDeviceId' | 'clientMsgId'>, m: MessageRef): boolean =>
  ref.senderDeviceId === m.senderDeviceId && ref.clientMsgId === m.clientMsgId;
