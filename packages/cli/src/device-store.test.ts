import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createGroup,
  createMlsClientContext,
  exportGroupState,
  exportGroupStateParts,
  generateDeviceIdentity,
  groupStateChange,
  importGroupStateParts,
  selfUpdate,
  splitGroupState,
} from '@courier/mls';
import type { StoredMessage } from '@courier/sdk';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { stateAfter } from './device-store-crash-child.ts';
import { DeviceStore } from './device-store.ts';

const dirs: string[] = [];
function fresh(): string {
  const dir = mkdtempSync(join(tmpdir(), 'courier-device-store-'));
  dirs.push(dir);
  return join(dir, 'devices', 'd.db');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A state of a one-byte secret part and one page, saved whole. */
const state = (n: number) =>
  groupStateChange(undefined, { secrets: Uint8Array.of(n), pages: [Uint8Array.of(n, 0)] });
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

const message = (n: number, overrides: Partial<StoredMessage> = {}): StoredMessage => ({
  groupId: 'g1',
  seq: n,
  clientMsgId: `m${n}`,
  senderAccountId: 'u_a',
  senderDeviceId: 'd_a',
  sentAtMs: n,
  text: `text ${n}`,
  outgoing: false,
  ...overrides,
});

describe('the CLI device store (SQLite)', () => {
  it('is private to the user and keeps identity, key packages and positions across opens', async () => {
    const path = fresh();
    const store = new DeviceStore(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await store.saveIdentity({
      accountId: 'u_a',
      deviceId: 'd_a',
      signaturePublicKey: Uint8Array.of(1),
      signaturePrivateKey: Uint8Array.of(2),
      certificationKey: Uint8Array.of(3),
    });
    await store.addKeyPackages([
      {
        ref: Uint8Array.of(9),
        keyPackage: Uint8Array.of(8),
        privateKeyPackage: Uint8Array.of(7),
        lastResort: true,
      },
    ]);
    store.setLastSeq('g1', 5);
    store.setLastSeq('g1', 3);
    store.setLastMailboxSeq(4);
    store.putOutbox({ kind: 'group', target: 'g1', clientMsgId: 'c1', payload: Uint8Array.of(1, 2) });
    store.close();
    const again = new DeviceStore(path);
    expect((await again.identity())?.signaturePrivateKey).toEqual(Uint8Array.of(2));
    expect((await again.keyPackages())[0]).toMatchObject({ lastResort: true, ref: Uint8Array.of(9) });
    expect([again.lastSeq('g1'), again.lastMailboxSeq()]).toEqual([5, 4]);
    expect(again.outbox()).toEqual([
      { kind: 'group', target: 'g1', clientMsgId: 'c1', payload: Uint8Array.of(1, 2) },
    ]);
    again.close();
  });

  it('saves a group only over the version it read: two processes never both move a chat on', async () => {
    const path = fresh();
    const [one, two] = [new DeviceStore(path), new DeviceStore(path)];
    expect(await one.saveGroup('g1', { state: state(1), seq: 1 }, undefined)).toBe(true);
    const read = (await two.group('g1'))!;
    expect(
      await one.saveGroup('g1', { state: state(2), seq: 2 }, read.version, {
        messages: [message(2)],
      }),
    ).toBe(true);
    // two's save, made from what it read before, fails and leaves nothing of itself behind.
    expect(
      await two.saveGroup('g1', { state: state(3), seq: 2 }, read.version, {
        messages: [message(9)],
      }),
    ).toBe(false);
    expect((await two.group('g1'))?.state).toEqual({
      secrets: Uint8Array.of(2),
      pages: [Uint8Array.of(2, 0)],
    });
    expect((await two.messages('g1')).map((m) => m.seq)).toEqual([2]);
    one.close();
    two.close();
  });

  it('shows each received message once, in order, and keeps each message once', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 40 }), (seqs) => {
        const store = new DeviceStore(fresh());
        void store.addMessages(seqs.map((n) => message(n)));
        void store.addMessages([message(100, { outgoing: true })]);
        const unique = [...new Set(seqs)];
        expect(store.takeUnshown().map((m) => m.seq)).toEqual(unique);
        expect(store.takeUnshown()).toEqual([]);
        store.close();
      }),
      { numRuns: 25 },
    );
  });

  it('splits groups saved whole by an earlier version into parts on opening, and saves them in parts after', async () => {
    const path = fresh();
    mkdirSync(dirname(path), { recursive: true });
    const context = await createMlsClientContext();
    const group = await createGroup(
      context,
      await generateDeviceIdentity('00000000-0000-4000-8000-000000000001', 'd1'),
      new TextEncoder().encode('g-whole'),
    );
    const saved = exportGroupState(group);
    // The groups table as the previous release made it, with a group saved whole (version 4) and one
    // of an older version (one part, no pages).
    const old = new Database(path);
    old.exec(`CREATE TABLE groups (
      group_id TEXT PRIMARY KEY, state BLOB NOT NULL, seq INTEGER NOT NULL, pending_id TEXT, pending_state BLOB,
      version INTEGER NOT NULL)`);
    const insert = old.prepare('INSERT INTO groups (group_id, state, seq, version) VALUES (?, ?, ?, ?)');
    insert.run('g-whole', saved, 7, 3);
    insert.run('g-v2', Uint8Array.of(2, 9, 9), 1, 1);
    old.close();
    const store = new DeviceStore(path);
    try {
      const read = (await store.group('g-whole'))!;
      expect(read).toMatchObject({ seq: 7, version: 3 });
      expect(read.state.pages.length).toBeGreaterThan(0);
      expect(hex(read.state.secrets)).toBe(hex(splitGroupState(saved).secrets));
      expect(read.state.pages.map(hex)).toEqual(splitGroupState(saved).pages.map(hex));
      const restored = importGroupStateParts(read.state);
      expect(hex(exportGroupState(restored))).toBe(hex(saved));
      expect((await store.group('g-v2'))?.state).toEqual({ secrets: Uint8Array.of(2, 9, 9), pages: [] });
      // The next save (after a commit) writes only what changed over the split state.
      const next = exportGroupStateParts((await selfUpdate(context, restored)).group, read.state);
      expect(await store.saveGroup('g-whole', { state: groupStateChange(read.state, next), seq: 8 }, 3)).toBe(
        true,
      );
      const after = (await store.group('g-whole'))!;
      expect(after.state.pages.map(hex)).toEqual(next.pages.map(hex));
      expect(hex(after.state.secrets)).toBe(hex(next.secrets));
    } finally {
      store.close();
    }
    // Opening again finds nothing left to split.
    const again = new DeviceStore(path);
    expect((await again.group('g-whole'))?.seq).toBe(8);
    again.close();
  });

  it('a process killed while saving leaves the state of one whole save: never one save’s secrets with another’s pages, nor its cursor without its state', async () => {
    const path = fresh();
    const child = fileURLToPath(new URL('./device-store-crash-child.ts', import.meta.url));
    for (let kill = 0; kill < 5; kill++) {
      const saver = spawn(process.execPath, ['--import', 'tsx', child, path], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        // Killed at some point after its fifth save, in the middle of whatever save it is making.
        await new Promise<void>((resolve, reject) => {
          saver.stdout.on('data', () => resolve());
          saver.on('exit', (code) => reject(new Error(`the saving process ended (${code})`)));
        });
        await new Promise((resolve) => setTimeout(resolve, 20 + kill * 40));
      } finally {
        saver.kill('SIGKILL');
        if (saver.exitCode === null && saver.signalCode === null) await once(saver, 'exit');
      }
      const store = new DeviceStore(path);
      const read = (await store.group('g'))!;
      const n = read.seq;
      expect(n).toBeGreaterThanOrEqual(5);
      const expected = stateAfter(n);
      expect(new TextDecoder().decode(read.state.secrets)).toBe(`secrets of save ${n}`);
      const text = (page: Uint8Array) => new TextDecoder().decode(page).replace(/\.+$/, '');
      expect(read.state.pages.map(text)).toEqual(expected.pages.map(text));
      expect(read.state.pages.map(hex)).toEqual(expected.pages.map(hex));
      // The cursor is the position of the state that was saved: written in the same transaction, a kill
      // cannot leave one without the other (two commits, state then cursor, left it one behind).
      expect(store.lastSeq('g')).toBe(n);
      // Start again from nothing for the next kill.
      await store.deleteGroup('g');
      store.close();
      const raw = new Database(path);
      raw.prepare('DELETE FROM seqs').run();
      raw.close();
    }
  }, 60_000);
});
