import { type GroupSave, MemoryMlsStore, SecureClient, type StoredMessage } from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer, type TestUser } from './support/harness.ts';
import { secureDevice } from './support/secure.ts';
import { until } from './support/until.ts';

/** A device store that counts the group saves it refused (another writer moved the group on first). */
class CountingStore extends MemoryMlsStore {
  refused = 0;
  saves = 0;

  override async saveGroup(
    groupId: string,
    record: GroupSave,
    expectedVersion: number | undefined,
    extras?: Parameters<MemoryMlsStore['saveGroup']>[3],
  ): Promise<boolean> {
    this.saves++;
    const ok = await super.saveGroup(groupId, record, expectedVersion, extras);
    if (!ok) this.refused++;
    return ok;
  }
}

/**
 * A device catching up with a backlog while it sends its delivery receipts: both move the chat's
 * group state on. Inside one process they take turns, so no work is thrown away on a lost race (a
 * receipt re-encrypted over and over while the backlog moves on was most of a browser's catch-up
 * time), and the backlog is decrypted and saved a run at a time (one store write per run, not per
 * message); it still arrives exactly once, in order, and the sender learns it was delivered.
 */
describe('catching up with a backlog', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('is saved a run at a time, exactly once and in order, without racing the receipts it owes', async () => {
    const alice = await secureDevice(server, await server.register(nextPhone()));
    const bobUser: TestUser = await server.register(nextPhone());
    const store = new CountingStore();
    const first = await secureDevice(server, bobUser, { store });
    const chat = await alice.client.openDirect(bobUser.accountId);
    await first.joined(chat.groupId);
    await first.client.stop();

    const count = 120;
    const accepted: Promise<{ seq: number }>[] = [];
    for (let i = 1; i <= count; i++)
      accepted.push((await alice.client.queueText(chat.groupId, `backlog ${i}`)).accepted);
    const last = (await Promise.all(accepted)).at(-1)!.seq;
    let delivered = 0;
    alice.client.on('status', (s) => {
      if (s.status === 'delivered') delivered = Math.max(delivered, s.upToSeq);
    });

    // Bob's device comes back with receipts going out at once (every batch races the backlog).
    const refusedBefore = store.refused;
    const savesBefore = store.saves;
    const bob = new SecureClient({
      url: server.url,
      token: bobUser.token,
      accountId: bobUser.accountId,
      deviceId: bobUser.deviceId,
      store,
      keyPackageStock: 4,
      receiptDelayMs: 0,
    });
    const received: StoredMessage[] = [];
    bob.on('message', (m) => received.push(m));
    try {
      await bob.start();
      await until(() => received.length >= count, `the backlog (have ${received.length})`, 60_000);
      await until(() => delivered >= last, 'the delivery receipt', 30_000);
      expect(received.map((m) => m.text)).toEqual(
        Array.from({ length: count }, (_, i) => `backlog ${i + 1}`),
      );
      const kept = (await store.messages(chat.groupId)).filter((m) => !m.roster && !m.outgoing);
      expect(kept.map((m) => m.text)).toEqual(received.map((m) => m.text));
      expect(store.refused - refusedBefore).toBe(0);
      // Saved a run at a time (one write per run of the backlog), not once per message.
      expect(store.saves - savesBefore).toBeLessThan(count / 2);
    } finally {
      await bob.stop();
      await alice.client.stop();
    }
  });
});
