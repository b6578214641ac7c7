import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceStore } from '@courier/cli';
import type { GroupSave, GroupSaveExtras, SecureClient, StoredMessage } from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer, type TestUser } from './support/harness.ts';
import { secureDevice } from './support/secure.ts';

/** When the device's process dies: right after its pending commit is saved, or once the server accepted it. */
type CrashPoint = 'before-submit' | 'after-accept';

/**
 * A device store on disk that dies with its process: once crashed, nothing more is written (saves throw,
 * positions stay), as if the process had been killed at that point. The file keeps what was written.
 */
class CrashingStore extends DeviceStore {
  crashAt: CrashPoint | undefined;
  crashed = false;
  private pendingSaved = false;

  override async saveGroup(
    groupId: string,
    record: GroupSave,
    expectedVersion: number | undefined,
    extras?: GroupSaveExtras,
  ): Promise<boolean> {
    if (this.crashed) throw new Error('the process is dead');
    if (this.pendingSaved && this.crashAt === 'after-accept') {
      // The first save after the pending one: the server accepted the commit (its reply, or its entry,
      // is what this save records), and the process dies before recording it.
      this.crashed = true;
      throw new Error('the process is dead');
    }
    const ok = await super.saveGroup(groupId, record, expectedVersion, extras);
    if (ok && record.pending && this.crashAt !== undefined) {
      this.pendingSaved = true;
      if (this.crashAt === 'before-submit') {
        this.crashed = true;
        throw new Error('the process is dead');
      }
    }
    return ok;
  }

  override setLastSeq(groupId: string, seq: number): void {
    if (!this.crashed) super.setLastSeq(groupId, seq);
  }
}

/** A device on a crashing store at `path`, not started (the test starts it). */
const diskDevice = (server: TestServer, user: TestUser, path: string) =>
  secureDevice(server, user, { store: new CrashingStore(path), start: false });

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const texts = (messages: StoredMessage[], groupId: string) =>
  messages.filter((m) => m.groupId === groupId).map((m) => m.text);

/**
 * A device that dies while its own commit (adding a member) is pending, and starts again from the same
 * SQLite store with a new client: it must end in step with the chat, never stuck at the old epoch.
 */
describe('a device that crashes around its own commit', () => {
  let server: TestServer;
  let dir: string;
  const running: SecureClient[] = [];
  const stores: DeviceStore[] = [];
  beforeAll(async () => {
    server = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), 'commit-crash-'));
  });
  afterAll(async () => {
    await Promise.allSettled(running.map((c) => c.stop()));
    for (const s of stores) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases = [
    { crashAt: 'after-accept', rival: false, name: 'after the server accepted the commit' },
    { crashAt: 'before-submit', rival: false, name: 'before the commit was sent (it is sent on restart)' },
    {
      crashAt: 'before-submit',
      rival: true,
      name: 'before the commit was sent, and another member commits meanwhile (it is forgotten)',
    },
  ] as const;
  for (const { crashAt, rival, name } of cases) {
    it(`recovers when it dies ${name}`, async () => {
      const aliceUser = await server.register(nextPhone());
      const path = join(dir, `${crashAt}-${aliceUser.deviceId}.db`);
      const first = await diskDevice(server, aliceUser, path);
      stores.push(first.store);
      running.push(first.client);
      await first.client.start();
      const bob = await secureDevice(server, await server.register(nextPhone()));
      const carol = await secureDevice(server, await server.register(nextPhone()));
      running.push(bob.client, carol.client);

      const group = await first.client.createGroup('crash', [bob.user.accountId]);
      const { groupId } = group;
      await bob.joined(groupId);
      await first.client.sendText(groupId, 'before');
      expect(texts(await bob.waitFor(groupId, 1), groupId)).toEqual(['before']);
      const epochBefore = (await first.client.epoch(groupId))!;
      // Bob's delivery receipt is in the log before anything else happens: sent later, at an epoch Carol
      // never had, it would be one she cannot read (a race of its own, not this test's).
      const beforeSeq = (await first.client.history(groupId, { limit: 1 })).messages[0]!.seq;
      await bob.client.flushReceipts();
      await until(
        async () => (await first.store.chatState(groupId)).deliveredUpTo >= beforeSeq,
        'Bob’s delivery receipt on the device',
      );

      // The device adds Carol and dies at the crash point.
      first.store.crashAt = crashAt;
      await expect(first.client.addMembers(groupId, [carol.user.accountId])).rejects.toThrow();
      expect(first.store.crashed).toBe(true);
      if (crashAt === 'after-accept') {
        // The server has the commit: the others move to the new epoch without the device.
        await bob.atEpoch(groupId, epochBefore + 1, 30_000);
        await carol.joined(groupId, 30_000);
      }
      if (rival) {
        // Bob's commit takes the epoch the pending one was made for: the server refuses that one now.
        await bob.client.updateKeys(groupId);
        await bob.atEpoch(groupId, epochBefore + 1, 30_000);
      }
      await first.client.stop();
      first.store.close();

      // Started again from what the store on disk holds.
      const again = await diskDevice(server, aliceUser, path);
      stores.push(again.store);
      running.push(again.client);
      await again.client.start();
      // It reaches the chat's epoch (the accepted commit adopted, or a fresh commit adding Carol made).
      await until(
        async () => ((await again.client.epoch(groupId)) ?? -1) >= epochBefore + 1,
        `epoch ${epochBefore + 1} after the restart (at ${await again.client.epoch(groupId)})`,
      );
      await carol.joined(groupId, 30_000);
      const serverEpoch = async () =>
        (
          await again.client.http.call<{ epoch: number }>(
            'GET',
            `/v1/groups/${encodeURIComponent(groupId)}/mls`,
          )
        ).epoch;
      await until(
        async () => (await again.client.epoch(groupId)) === (await serverEpoch()),
        'the device at the server epoch',
      );

      // It sends what every other member decrypts, and reads theirs.
      await again.client.sendText(groupId, 'after the restart');
      expect(texts(await bob.waitFor(groupId, 2, 30_000), groupId)).toEqual(['before', 'after the restart']);
      expect(texts(await carol.waitFor(groupId, 1, 30_000), groupId)).toEqual(['after the restart']);
      await bob.client.sendText(groupId, 'from bob');
      await carol.client.sendText(groupId, 'from carol');
      await until(() => texts(again.received, groupId).length >= 2, 'the others’ messages on the device');
      expect(texts(again.received, groupId).sort()).toEqual(['from bob', 'from carol']);
      // Its group's saved position is the chat's last entry, as its connection's.
      await until(
        async () => (await again.store.group(groupId))?.seq === again.store.lastSeq(groupId),
        'the saved group position at the connection position',
      );
      expect((await again.store.group(groupId))?.pending).toBeUndefined();

      await Promise.all([again.client.stop(), bob.client.stop(), carol.client.stop()]);
      expect([...again.problems, ...bob.problems, ...carol.problems]).toEqual([]);
      expect({ again: again.undecryptable, bob: bob.undecryptable, carol: carol.undecryptable }).toEqual({
        again: [],
        bob: [],
        carol: [],
      });
    });
  }
});
