import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CourierError, type GroupView } from '@courier/protocol';
import type { Accepted, SecureClient } from '@courier/sdk';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DeviceStore } from './device-store.ts';
import { deliverDrafts, isPermanent } from './draft-delivery.ts';

/** How a chat behaves in one round. */
type ChatFate = 'ready' | 'never-joined' | 'no-such-chat' | 'server-away';

describe('delivering kept messages (drafts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-drafts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;

  it('sends what it can in typed order, keeps the rest (and what queues behind it), drops only the hopeless (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.constantFrom('ready', 'never-joined', 'no-such-chat', 'server-away') as fc.Arbitrary<ChatFate>,
          {
            minLength: 1,
            maxLength: 3,
          },
        ),
        fc.array(fc.nat({ max: 2 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        async (fates, typed, onlyLastPatient) => {
          const store = new DeviceStore(join(dir, `s${n++}.db`));
          try {
            const chats = typed.map((i) => i % fates.length);
            for (const [k, chat] of chats.entries())
              store.addDraft({ clientMsgId: `m${k}`, chat: `chat${chat}`, text: `t${k}` });
            let clock = 0;
            const queued: string[] = [];
            const client = {
              epoch: async (groupId: string) => (fates[Number(groupId.slice(1))] === 'ready' ? 1 : undefined),
              queueText: async (_groupId: string, _text: string, clientMsgId: string) => {
                queued.push(clientMsgId);
                store.removeDraft(clientMsgId); // as the store's group save does, in one transaction
                return { accepted: Promise.resolve({} as Accepted) };
              },
            } as unknown as SecureClient;
            const last = `m${chats.length - 1}`;
            const outcomes = await deliverDrafts(client, store, {
              joinWaitMs: 1000,
              // As `send` does: only the chat of the message just typed is waited for.
              ...(onlyLastPatient ? { patient: (d: { clientMsgId: string }) => d.clientMsgId === last } : {}),
              now: () => clock,
              sleep: async (ms) => {
                clock += ms;
              },
              resolve: async (chat) => {
                const index = Number(chat.slice(4));
                const fate = fates[index];
                if (fate === 'no-such-chat') throw new CourierError('GROUP_NOT_FOUND');
                if (fate === 'server-away') throw new CourierError('SERVER_UNAVAILABLE');
                return { groupId: `g${index}` } as GroupView;
              },
            });
            // Every draft is accounted for once.
            expect(outcomes.map((o) => o.draft.clientMsgId).sort()).toEqual(
              chats.map((_, k) => `m${k}`).sort(),
            );
            const left = store.drafts().map((d) => d.clientMsgId);
            for (const outcome of outcomes) {
              const fate = fates[Number(outcome.draft.chat.slice(4))]!;
              const id = outcome.draft.clientMsgId;
              if (outcome.kind === 'queued') expect(fate).toBe('ready');
              if (outcome.kind === 'dropped') expect(fate).toBe('no-such-chat');
              if (fate === 'no-such-chat' && outcome.kind !== 'dropped')
                // Only after the server was found away (then nothing more is tried).
                expect(outcome.kind).toBe('kept');
              // Kept drafts stay in the store; queued and dropped ones do not.
              expect(left.includes(id)).toBe(outcome.kind === 'kept');
            }
            // Queued in the order typed.
            const order = chats.map((_, k) => `m${k}`).filter((id) => queued.includes(id));
            expect(queued).toEqual(order);
            // A chat nobody patient is in is checked, not waited for: one wait at most then.
            if (onlyLastPatient) expect(clock).toBeLessThanOrEqual(1000 + 50);
            // Once the server is found away, nothing typed after that draft is sent (no overtaking).
            const away = outcomes.findIndex((o) => fates[Number(o.draft.chat.slice(4))] === 'server-away');
            if (away >= 0) expect(outcomes.slice(away).some((o) => o.kind === 'queued')).toBe(false);
          } finally {
            store.close();
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('waits only for the chat of the message just typed, not for every old stuck chat', async () => {
    const store = new DeviceStore(join(dir, 'patient.db'));
    try {
      for (const [k, chat] of ['stuck1', 'stuck2', 'fresh'].entries())
        store.addDraft({ clientMsgId: `m${k}`, chat, groupId: chat, text: `t${k}` });
      let clock = 0;
      const client = {
        epoch: async (groupId: string) => (groupId === 'fresh' && clock >= 500 ? 1 : undefined),
        queueText: async (_g: string, _t: string, clientMsgId: string) => {
          store.removeDraft(clientMsgId);
          return { accepted: Promise.resolve({} as Accepted) };
        },
      } as unknown as SecureClient;
      const outcomes = await deliverDrafts(client, store, {
        joinWaitMs: 30_000,
        patient: (d) => d.clientMsgId === 'm2',
        now: () => clock,
        sleep: async (ms) => {
          clock += ms;
        },
        resolve: async () => {
          throw new Error('all resolved already');
        },
      });
      expect(outcomes.map((o) => o.kind)).toEqual(['kept', 'kept', 'queued']);
      // The fresh chat got ready after 0.5 s and the two stuck ones cost no wait.
      expect(clock).toBe(500);
    } finally {
      store.close();
    }
  });

  it('keeps a draft on failures that pass, drops it on those that will not', () => {
    expect(isPermanent(new CourierError('GROUP_NOT_FOUND'))).toBe(true);
    expect(isPermanent(new CourierError('ACCOUNT_NOT_FOUND'))).toBe(true);
    expect(isPermanent(new CourierError('MLS_NOT_MEMBER'))).toBe(true);
    expect(isPermanent(new CourierError('MLS_GROUP_NOT_READY'))).toBe(false);
    expect(isPermanent(new CourierError('SERVER_UNAVAILABLE'))).toBe(false);
    expect(isPermanent(new CourierError('AUTH_INVALID_TOKEN'))).toBe(false);
    expect(isPermanent(new TypeError('fetch failed'))).toBe(false);
  });
});
