import {
  consistencyProof,
  inclusionProof,
  leafHash,
  openCheckpoint,
  rootFromLeafHashes,
  signCheckpoint,
  verifyConsistency,
  verifyInclusion,
} from '@courier/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStorage } from '../storage/sqlite/open-storage.ts';
import { type OpenedStorage, storageAdapters } from '../storage/contract/adapters.ts';
import type { Storage } from '../storage/ports.ts';
import { LogWitness } from './log-witness.ts';
import { LogIntegrityError, TransparencyLog } from './transparency-log.ts';

const identity = {
  origin: 'test.example/legal-log',
  keyName: 'test-log',
  privateKey: ed25519.utils.randomSecretKey(),
};
const clock = { now: () => Date.parse('2026-03-01T00:00:00Z') };
const utf8 = new TextEncoder();
const policyLeaf = (n: number) =>
  ({ v: 1, type: 'policy', at: clock.now(), policyVersion: `v${n}`, policyHash: 'ab'.repeat(32) }) as const;

describe.each(storageAdapters)('the transparency log (incremental tree over $name storage)', (adapter) => {
  const opened: OpenedStorage[] = [];
  const open = async () => {
    const storage = await adapter.open();
    opened.push(storage);
    return storage.storage;
  };
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.dispose();
  });

  it('signs, after every append, the root and proofs a full rebuild from the stored leaves gives', async () => {
    const storage = await open();
    const log = new TransparencyLog(storage, identity, clock);
    await log.verifyIntegrity();
    for (let n = 0; n < 21; n++) {
      const { index, checkpoint } = await log.append(policyLeaf(n));
      expect(index).toBe(n);
      const stored = (await log.leaves(0, n + 1)).map((l) => leafHash(utf8.encode(l.leaf)));
      const opened = openCheckpoint(checkpoint, log.verifierKey, identity.origin);
      expect(opened.size).toBe(n + 1);
      expect(opened.rootHash).toEqual(rootFromLeafHashes(stored));
      const proof = await log.inclusion(Math.floor(n / 2), n + 1);
      expect(proof).toEqual(inclusionProof(stored, Math.floor(n / 2)));
      verifyInclusion(Math.floor(n / 2), n + 1, stored[Math.floor(n / 2)]!, proof, opened.rootHash);
      if (n > 0) {
        const from = Math.ceil(n / 3);
        expect(await log.consistency(from, n + 1)).toEqual(consistencyProof(stored, from));
        verifyConsistency(
          from,
          n + 1,
          await log.consistency(from, n + 1),
          rootFromLeafHashes(stored.slice(0, from)),
          opened.rootHash,
        );
      }
    }
  });

  it('catches up with leaves another node appended', async () => {
    const storage = await open();
    const nodeA = new TransparencyLog(storage, identity, clock);
    const nodeB = new TransparencyLog(storage, identity, clock);
    await nodeA.verifyIntegrity();
    await nodeB.verifyIntegrity();
    await nodeA.append(policyLeaf(0));
    await nodeB.append(policyLeaf(1));
    const third = await nodeA.append(policyLeaf(2));
    const stored = (await nodeA.leaves(0, 3)).map((l) => leafHash(utf8.encode(l.leaf)));
    expect(third.index).toBe(2);
    expect(openCheckpoint(third.checkpoint, nodeA.verifierKey, identity.origin).rootHash).toEqual(
      rootFromLeafHashes(stored),
    );
  });

  it('gives every leaf one place when two nodes append at once', async () => {
    const storage = await open();
    const nodes = [
      new TransparencyLog(storage, identity, clock),
      new TransparencyLog(storage, identity, clock),
    ];
    for (const node of nodes) await node.verifyIntegrity();
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, n) => nodes[n % 2]!.append(policyLeaf(n))),
    );
    expect(results.map((r) => r.index).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 30 }, (_, n) => n),
    );
    const stored = (await nodes[0]!.leaves(0, 100)).map((l) => leafHash(utf8.encode(l.leaf)));
    expect(stored).toHaveLength(30);
    const newest = results.find((r) => r.index === 29)!;
    expect(openCheckpoint(newest.checkpoint, nodes[0]!.verifierKey, identity.origin).rootHash).toEqual(
      rootFromLeafHashes(stored),
    );
    // Both nodes' trees agree with storage: proofs from either verify against the same root.
    for (const node of nodes) expect(await node.consistency(10, 30)).toEqual(consistencyProof(stored, 10));
    await expect(new TransparencyLog(storage, identity, clock).verifyIntegrity()).resolves.toBeUndefined();
  });
});

describe('the transparency log (SQLite only)', () => {
  const opened: Storage[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });
  const open = async () => {
    const storage = await openSqliteStorage({ path: ':memory:' });
    opened.push(storage);
    return storage;
  };

  /** A log in a SQLite file that the test can also edit behind the log's back. */
  const withFileLog = async (
    work: (opened: { path: string; storage: Storage; log: TransparencyLog }) => Promise<void>,
  ) => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-log-'));
    try {
      const path = join(dir, 'log.db');
      const storage = await openSqliteStorage({ path });
      opened.push(storage);
      const log = new TransparencyLog(storage, identity, clock);
      await log.verifyIntegrity();
      await work({ path, storage, log });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('refuses, under its lock, to append to a log that lost a leaf behind its back', () =>
    withFileLog(async ({ path, log }) => {
      await log.append(policyLeaf(0));
      await log.append(policyLeaf(1));
      const db = new Database(path);
      db.prepare('DELETE FROM log_leaves WHERE idx = 1').run();
      db.close();
      await expect(log.append(policyLeaf(2))).rejects.toThrow(LogIntegrityError);
      await expect(log.append(policyLeaf(2))).rejects.toThrow(/rolled back/);
    }));

  // The start-up check reads the newest checkpoint's signed note, not its unsigned columns: an
  // edited leaf with the size/root_hash columns rewritten to match, or a note signed by another
  // key, stops the server.
  it('refuses at start a log whose checkpoint columns were rewritten to match an edited leaf', () =>
    withFileLog(async ({ path, storage, log }) => {
      for (let n = 0; n < 3; n++) await log.append(policyLeaf(n));
      const db = new Database(path);
      const edited = JSON.stringify({ ...policyLeaf(1), policyVersion: 'forged' });
      db.prepare('UPDATE log_leaves SET leaf = ? WHERE idx = 1').run(edited);
      const rows = db.prepare('SELECT leaf FROM log_leaves ORDER BY idx').all() as { leaf: string }[];
      const root = rootFromLeafHashes(rows.map((r) => leafHash(utf8.encode(r.leaf))));
      db.prepare('UPDATE log_checkpoints SET root_hash = ? WHERE size = 3').run(Buffer.from(root));
      db.close();
      await expect(new TransparencyLog(storage, identity, clock).verifyIntegrity()).rejects.toThrow(
        LogIntegrityError,
      );
    }));

  it('refuses at start a log whose newest checkpoint is not signed by its key', async () => {
    const storage = await open();
    const log = new TransparencyLog(storage, identity, clock);
    await log.verifyIntegrity();
    await log.append(policyLeaf(0));
    const latest = (await storage.transparencyLog.latestCheckpoint())!;
    const forged = signCheckpoint(
      { origin: identity.origin, size: latest.size, rootHash: latest.rootHash },
      { name: identity.keyName, privateKey: ed25519.utils.randomSecretKey() },
    );
    await storage.transparencyLog.putCheckpoint({ ...latest, note: forged });
    await expect(new TransparencyLog(storage, identity, clock).verifyIntegrity()).rejects.toThrow(
      /not signed by this server's key/,
    );
  });

  // Issue 11 item 12: the witness is per log. One left by an embedded run does not stop a server
  // on another database, while a restore or an emptied database at the same place is still caught.
  it('keeps one witness per log: another database starts, an old copy or an emptied one does not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-witness-'));
    try {
      const witnessFile = join(dir, 'log-witness.json');
      const at = (name: string) => ({ kind: 'sqlite' as const, path: join(dir, name) });
      const start = async (name: string) => {
        const storage = await openSqliteStorage({ path: join(dir, name) });
        opened.push(storage);
        const log = new TransparencyLog(
          storage,
          identity,
          clock,
          LogWitness.forConfig({ transparency: { witnessFile }, storage: at(name) }),
        );
        return { storage, log };
      };
      const embedded = await start('embedded.db');
      await embedded.log.verifyIntegrity();
      for (let n = 0; n < 3; n++) await embedded.log.append(policyLeaf(n));
      const scaled = await start('scaled.db');
      await scaled.log.verifyIntegrity();
      await scaled.log.append(policyLeaf(9));
      await expect((await start('scaled.db')).log.verifyIntegrity()).resolves.toBeUndefined();

      // The embedded database loses its newest leaf (a restore) or everything (a new empty file).
      const db = new Database(join(dir, 'embedded.db'));
      db.prepare('DELETE FROM log_leaves WHERE idx = 2').run();
      db.prepare('DELETE FROM log_checkpoints WHERE size = 3').run();
      db.close();
      await expect((await start('embedded.db')).log.verifyIntegrity()).rejects.toThrow(/old copy/);
      const wiped = new Database(join(dir, 'embedded.db'));
      wiped.exec('DELETE FROM log_leaves; DELETE FROM log_checkpoints;');
      wiped.close();
      await expect((await start('embedded.db')).log.verifyIntegrity()).rejects.toThrow(/old copy/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a bad proof request with MERKLE_BAD_SIZE', async () => {
    const log = new TransparencyLog(await open(), identity, clock);
    await log.verifyIntegrity();
    await log.append(policyLeaf(0));
    await expect(log.inclusion(1, 1)).rejects.toMatchObject({ code: 'MERKLE_BAD_SIZE' });
    await expect(log.consistency(0, 1)).rejects.toMatchObject({ code: 'MERKLE_BAD_SIZE' });
    await expect(log.consistency(1, 2)).rejects.toMatchObject({ code: 'MERKLE_BAD_SIZE' });
  });
});
