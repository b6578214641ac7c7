import { type GroupStateParts, joinGroupState } from '@courier/mls';
import {
  type GroupRecord,
  type GroupSave,
  type GroupSaveExtras,
  type KnownGroupState,
  MemoryMlsStore,
  readPendingCommit,
} from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { secureDevice } from './support/secure.ts';

/** A memory store that counts the group reads that had to assemble the state (not the caller's own). */
class CountingStore extends MemoryMlsStore {
  fullReads = 0;
  /** The position of the chat's stored state, not counted. */
  async seqOf(groupId: string): Promise<number> {
    return (await super.group(groupId))?.seq ?? 0;
  }
  override async group(groupId: string, known?: KnownGroupState): Promise<GroupRecord | undefined> {
    const record = await super.group(groupId, known);
    if (record && record.state !== known?.state) this.fullReads++;
    return record;
  }
}

/**
 * A client keeps its chats' groups in memory between entries: reading the stored record for the next
 * entry hands back the state it holds (the tree's pages are not read, the group not decoded again),
 * also after saves that only move the position.
 */
describe('MLS group state on a running client', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('reads no group state back from its store while it sends, receives and sends receipts', async () => {
    const store = new CountingStore();
    const alice = await secureDevice(server, await server.register(nextPhone()), { store });
    const bob = await secureDevice(server, await server.register(nextPhone()));
    const chat = await alice.client.openDirect(bob.user.accountId);
    await bob.joined(chat.groupId);
    await bob.client.sendText(chat.groupId, 'first');
    await alice.waitFor(chat.groupId, 1);
    store.fullReads = 0;
    for (let i = 0; i < 4; i++) {
      await alice.client.sendText(chat.groupId, `from alice ${i}`);
      await bob.client.sendText(chat.groupId, `from bob ${i}`);
    }
    await alice.client.flushReceipts();
    await bob.waitFor(chat.groupId, 4);
    expect((await alice.waitFor(chat.groupId, 5)).map((m) => m.text)).toEqual([
      'first',
      ...[0, 1, 2, 3].map((i) => `from bob ${i}`),
    ]);
    // Every entry of the chat processed, its own included.
    await alice.client.sendText(chat.groupId, 'last');
    const last = await bob.waitFor(chat.groupId, 5);
    const lastSeq = (await alice.client.history(chat.groupId, { limit: 1 })).messages[0]!.seq;
    for (let tries = 0; (await store.seqOf(chat.groupId)) < lastSeq && tries < 200; tries++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(last.at(-1)?.text).toBe('last');
    expect(store.fullReads).toBe(0);
    await Promise.all([alice.client.stop(), bob.client.stop()]);
    expect([...alice.problems, ...bob.problems]).toEqual([]);
  });

  it('keeps its own commit as what it changes until the server accepts it, and reads it back whole', async () => {
    /** Records each pending commit saved and the stored state it was saved over. */
    class PendingStore extends MemoryMlsStore {
      saved: { pending: Uint8Array; base: GroupStateParts }[] = [];
      override async saveGroup(
        groupId: string,
        record: GroupSave,
        expectedVersion: number | undefined,
        extras?: GroupSaveExtras,
      ): Promise<boolean> {
        const stored = await super.group(groupId);
        if (record.pending && stored) this.saved.push({ pending: record.pending.state, base: stored.state });
        return super.saveGroup(groupId, record, expectedVersion, extras);
      }
    }
    const store = new PendingStore();
    const alice = await secureDevice(server, await server.register(nextPhone()), { store });
    const others = await Promise.all(
      Array.from({ length: 3 }, async () => secureDevice(server, await server.register(nextPhone()))),
    );
    const [bob, ...later] = others as [(typeof others)[0], ...typeof others];
    const group = await alice.client.createGroup('pending', [bob.user.accountId]);
    await bob.joined(group.groupId);
    store.saved = [];
    await alice.client.addMembers(
      group.groupId,
      later.map((d) => d.user.accountId),
    );
    // One pending commit, saved as what it changes (sdk pending-commit.ts), not the whole state...
    expect(store.saved).toHaveLength(1);
    const [{ pending, base }] = store.saved as [(typeof store.saved)[0]];
    expect(pending[0]).toBe(0xc6);
    // ...that reads back over the state it was saved against as exactly the state adopted on acceptance.
    const adopted = (await store.group(group.groupId))!.state;
    expect(Buffer.from(joinGroupState(readPendingCommit(pending, base))).toString('hex')).toBe(
      Buffer.from(joinGroupState(adopted)).toString('hex'),
    );
    for (const d of later) await d.joined(group.groupId);
    await alice.client.sendText(group.groupId, 'after the add');
    for (const d of others)
      expect((await d.waitFor(group.groupId, 1)).map((m) => m.text)).toEqual(['after the add']);
    await Promise.all([alice, ...others].map((d) => d.client.stop()));
    expect([alice, ...others].flatMap((d) => d.problems)).toEqual([]);
  });
});
