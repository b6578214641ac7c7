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
  /**
   * Drafts whose chat is worth waiting `joinWaitMs` for (default: all); a chat only others wait in is
   * checked once, so that an old draft stuck on a chat does not hold up every later send.
   */
  patient?: (draft: Draft) => boolean;
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
 * Sends every draft it can, oldest first: finds each one's chat, waits (at most `joinWaitMs`, once per
 * chat) until this device is in the chat's encryption group, then encrypts it into the outbox, which
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
  const stopped = options.stopped ?? (() => false);
  const patient = options.patient ?? (() => true);
  const drafts = store.drafts().filter((draft) => !options.filter || options.filter(draft));
  const settled = new Map<string, DraftOutcome>();
  const groupOf = new Map<string, string>();
  let unreachable: CourierError | undefined;
  // First every draft's chat (so that the chats worth waiting for are known before any wait).
  for (const draft of drafts) {
    if (stopped()) break;
    if (draft.groupId !== undefined) {
      groupOf.set(draft.clientMsgId, draft.groupId);
      continue;
    }
    if (unreachable) {
      settled.set(draft.clientMsgId, { kind: 'kept', draft, reason: unreachable });
      continue;
    }
    try {
      const groupId = (await options.resolve(draft.chat)).groupId;
      store.setDraftGroup(draft.clientMsgId, groupId);
      groupOf.set(draft.clientMsgId, groupId);
    } catch (error) {
      if (isPermanent(error)) {
        store.removeDraft(draft.clientMsgId);
        settled.set(draft.clientMsgId, { kind: 'dropped', draft, reason: error });
      } else {
        const reason = asCourierError(error);
        if (reason.code === 'SERVER_UNAVAILABLE') unreachable = reason;
        settled.set(draft.clientMsgId, { kind: 'kept', draft, reason });
      }
    }
  }
  const worthWaiting = new Set(
    drafts.filter((d) => patient(d) && groupOf.has(d.clientMsgId)).map((d) => groupOf.get(d.clientMsgId)!),
  );
  const waiting = new Map<string, CourierError>();
  const outcomes: DraftOutcome[] = [];
  for (const draft of drafts) {
    if (stopped()) break;
    const done = settled.get(draft.clientMsgId);
    const groupId = groupOf.get(draft.clientMsgId);
    if (done || groupId === undefined) {
      if (done) outcomes.push(done);
      continue;
    }
    // Once the server is out of reach nothing later goes (a later chat must not overtake).
    const held = unreachable ?? waiting.get(groupId);
    if (held) {
      outcomes.push({ kind: 'kept', draft, reason: held });
      continue;
    }
    try {
      const deadline = now() + (worthWaiting.has(groupId) ? options.joinWaitMs : 0);
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
        waiting.set(groupId, reason);
        outcomes.push({ kind: 'kept', draft, reason });
      }
    }
  }
  return outcomes;
}
