import { CourierError, type GroupView } from '@courier/protocol';
import type { Accepted, SecureClient } from '@courier/sdk';
import type { DeviceStore, Draft } from './device-store.ts';

/** What became of one draft in a delivery round. */
export type DraftOutcome =
  /** Encrypted and in the outbox: it goes out from here on; `accepted` resolves once the server stored it. */
  | { kind: 'queued'; draft: Draft; groupId: string; accepted: Promise<Accepted> }
  /** Still a draft (the server is out of reach, or the chat's encryption group is not ready). */
  | { kind: 'kept'; draft: Draft; reason: CourierError }
  /** Can never be sent (nobody by that name, a chat left): removed, with the reason. */
  | { kind: 'dropped'; draft: Draft; reason: CourierError };

export interface DeliveryOptions {
  /** How a draft's chat (as typed) is found or opened: resolveChat with the secure direct opener. */
  resolve: (chat: string) => Promise<GroupView>;
  /** How long to wait for this device to be in a chat's encryption group (its Welcome may be coming). */
  joinWaitMs: number;
  /** Only these drafts (default: all). */
  filter?: (draft: Draft) => boolean;
  /** Once true, the round ends (the command is stopping); what is left stays kept. */
  stopped?: () => boolean;
  /** Clock and pause, injected for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const keptMessage =
  "It is kept in this profile's outbox and goes out with the next send, listen or chat.";

/**
 * Whether a failure will be the same next time (the chat or person does not exist, this account
 * left): the draft is dropped. Everything else (no network, the server failing, the encryption
 * group not ready yet, a session to renew) keeps it.
 */
export function isPermanent(error: unknown): error is CourierError {
  if (!(error instanceof CourierError)) return false;
  if (error.status >= 500 || error.status === 429) return false;
  if (error.code === 'MLS_GROUP_NOT_READY' || error.code.startsWith('AUTH_')) return false;
  return true;
}

const asCourierError = (error: unknown) =>
  error instanceof CourierError ? error : new CourierError('SERVER_UNAVAILABLE', { cause: error });

/**
 * Sends every draft it can, oldest first: finds its chat, waits (at most `joinWaitMs`, once per chat)
 * until this device is in the chat's encryption group, then encrypts it into the outbox, which
 * removes the draft in the same transaction. A draft that cannot go yet stays, and so do the later
 * ones of its chat, so that a chat's messages keep the order they were typed in.
 */
export async function deliverDrafts(
  client: SecureClient,
  store: DeviceStore,
  options: DeliveryOptions,
): Promise<DraftOutcome[]> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const outcomes: DraftOutcome[] = [];
  const waiting = new Map<string, CourierError>();
  let unreachable: CourierError | undefined;
  const stopped = options.stopped ?? (() => false);
  for (const draft of store.drafts()) {
    if (stopped()) break;
    if (options.filter && !options.filter(draft)) continue;
    if (unreachable) {
      outcomes.push({ kind: 'kept', draft, reason: unreachable });
      continue;
    }
    let groupId = draft.groupId;
    try {
      if (groupId === undefined) {
        groupId = (await options.resolve(draft.chat)).groupId;
        store.setDraftGroup(draft.clientMsgId, groupId);
      }
      const held = waiting.get(groupId);
      if (held) {
        outcomes.push({ kind: 'kept', draft, reason: held });
        continue;
      }
      const deadline = now() + options.joinWaitMs;
      while ((await client.epoch(groupId)) === undefined && now() < deadline && !stopped()) await sleep(50);
      if ((await client.epoch(groupId)) === undefined) {
        const reason = new CourierError('MLS_GROUP_NOT_READY', {
          message: `This device is not in the chat's encryption group yet (the person who started the chat adds it). ${keptMessage}`,
        });
        waiting.set(groupId, reason);
        outcomes.push({ kind: 'kept', draft, reason });
        continue;
      }
      const { accepted } = await client.queueText(groupId, draft.text, draft.clientMsgId);
      outcomes.push({ kind: 'queued', draft, groupId, accepted });
    } catch (error) {
      if (isPermanent(error)) {
        store.removeDraft(draft.clientMsgId);
        outcomes.push({ kind: 'dropped', draft, reason: error });
      } else {
        const reason = asCourierError(error);
        if (reason.code === 'SERVER_UNAVAILABLE') unreachable = reason;
        // The chat's later drafts wait behind this one.
        if (groupId !== undefined) waiting.set(groupId, reason);
        outcomes.push({ kind: 'kept', draft, reason });
      }
    }
  }
  return outcomes;
}
