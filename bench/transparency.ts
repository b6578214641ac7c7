import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeLeaf, leafHash } from '@courier/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import { openSqliteStorage } from '../packages/server/src/storage/sqlite/open-storage.ts';
import { TransparencyLog } from '../packages/server/src/transparency/transparency-log.ts';
import { type Figure, progress, round } from './figure.ts';

export const TRANSPARENCY_SIZES = [1_000, 100_000];
const APPENDS = 200;

/**
 * The legal log on SQLite (a file, synchronous = FULL): a log of `size` leaves is written in one
 * go, then the start-up integrity check (every leaf re-hashed against the signed checkpoint) and
 * `APPENDS` appends, each its own transaction with a new signed checkpoint, are timed. With the
 * incremental tree an append costs the same at any size.
 */
export async function runTransparencyBench(sizes: number[]): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const size of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'courier-bench-log-'));
    const storage = await openSqliteStorage({ path: join(dir, 'log.db') });
    try {
      const clock = { now: () => Date.now() };
      const identity = {
        origin: 'bench/legal-log',
        keyName: 'bench',
        privateKey: ed25519.utils.randomSecretKey(),
      };
      const leaf = (n: number) =>
        encodeLeaf({
          v: 1,
          type: 'approval',
          at: Date.UTC(2026, 0, 1) + n,
          case: n.toString(16).padStart(64, '0'),
          approvals: 1,
        });
      progress(`transparency: writing ${size} leaves`);
      await storage.transaction(async (tx) => {
        for (let idx = 0; idx < size; idx++) {
          const text = leaf(idx);
          await tx.transparencyLog.append({
            idx,
            leaf: text,
            leafHash: leafHash(new TextEncoder().encode(text)),
            createdAt: 0,
          });
        }
      });
      const log = new TransparencyLog(storage, identity, clock);
      await log.verifyIntegrity();
      await log.resign();
      const checkStart = performance.now();
      await new TransparencyLog(storage, identity, clock).verifyIntegrity();
      const checkMs = performance.now() - checkStart;
      const start = performance.now();
      for (let n = 0; n < APPENDS; n++)
        await log.append({
          v: 1,
          type: 'approval',
          at: Date.UTC(2026, 0, 2),
          case: 'ab'.repeat(32),
          approvals: 1,
        });
      const appendMs = (performance.now() - start) / APPENDS;
      const params = { logSize: size, appends: APPENDS };
      figures.push(
        {
          bench: 'transparency',
          figure: 'append_ms_per_leaf',
          value: round(appendMs, 2),
          unit: 'ms',
          params,
          storage: 'sqlite',
        },
        {
          bench: 'transparency',
          figure: 'integrity_check_s',
          value: round(checkMs / 1000, 2),
          unit: 's',
          params,
          storage: 'sqlite',
        },
      );
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return figures;
}
