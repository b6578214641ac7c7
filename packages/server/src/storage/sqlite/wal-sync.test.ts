import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isStorageUnavailable } from '../storage-unavailable.ts';
import { WalSync } from './wal-sync.ts';

const dir = mkdtempSync(join(tmpdir(), 'courier-wal-sync-'));
const wal = join(dir, 'db-wal');
writeFileSync(wal, 'wal');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A WalSync over a counter of changes, whose syncs end when the test says. */
function harness() {
  const state = { changes: 0 };
  const syncs: { startedAt: number; finish: (error?: Error) => void; ended: boolean }[] = [];
  const walSync = new WalSync(
    wal,
    () => state.changes,
    () =>
      new Promise<void>((resolve, reject) => {
        const sync = {
          startedAt: state.changes,
          ended: false,
          finish: (error?: Error) => {
            sync.ended = true;
            if (error) reject(error);
            else resolve();
          },
        };
        syncs.push(sync);
      }),
  );
  return { state, syncs, walSync };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('WalSync', () => {
  it('answers a call that wrote nothing at once, without syncing', async () => {
    const { syncs, walSync } = harness();
    await walSync.afterCall();
    expect(syncs).toHaveLength(0);
  });

  it('answers a write only after a sync that started after it, and shares syncs between callers', async () => {
    const { state, syncs, walSync } = harness();
    state.changes = 1;
    let firstDone = false;
    const first = walSync.afterCall().then(() => {
      firstDone = true;
    });
    await settle();
    expect(syncs).toHaveLength(1);
    expect(firstDone).toBe(false);
    // Two more writes while the disk works: both wait for one more sync, which starts afterwards.
    state.changes = 2;
    const second = walSync.afterCall();
    state.changes = 3;
    const third = walSync.afterCall();
    await settle();
    expect(syncs).toHaveLength(1);
    syncs[0]!.finish();
    await first;
    await settle();
    expect(syncs).toHaveLength(2);
    expect(syncs[1]!.startedAt).toBe(3);
    syncs[1]!.finish();
    await Promise.all([second, third]);
    await walSync.afterCall();
    expect(syncs).toHaveLength(2);
    await walSync.close();
  });

  it('reports a failed sync as storage unavailable, and syncs again on the next write', async () => {
    const { state, syncs, walSync } = harness();
    state.changes = 1;
    const call = walSync.afterCall();
    await settle();
    syncs[0]!.finish(Object.assign(new Error('EIO'), { code: 'EIO' }));
    const error = await call.catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('SQLITE_IOERR_FSYNC');
    expect(isStorageUnavailable(error)).toBe(true);
    const again = walSync.afterCall();
    await settle();
    expect(syncs).toHaveLength(2);
    syncs[1]!.finish();
    await again;
    await walSync.close();
  });

  it('never answers a write before a sync that began after it has ended (model)', async () => {
    type Step = { kind: 'write' } | { kind: 'call' } | { kind: 'finish'; fail: boolean } | { kind: 'tick' };
    const step = fc.oneof(
      fc.constant<Step>({ kind: 'write' }),
      fc.constant<Step>({ kind: 'call' }),
      fc.boolean().map<Step>((fail) => ({ kind: 'finish', fail })),
      fc.constant<Step>({ kind: 'tick' }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const { state, syncs, walSync } = harness();
        const calls: { changes: number; outcome?: 'ok' | 'failed'; syncsEndedOkAfter: () => boolean }[] = [];
        const okSyncs: number[] = []; // startedAt of the syncs that ended well
        const finishNext = (fail: boolean) => {
          const running = syncs.find((s) => !s.ended);
          if (!running) return;
          if (!fail) okSyncs.push(running.startedAt);
          running.finish(fail ? new Error('EIO') : undefined);
        };
        for (const s of [
          ...steps,
          ...Array.from({ length: 30 }, (): Step => ({ kind: 'finish', fail: false })),
        ]) {
          if (s.kind === 'write') state.changes += 1;
          else if (s.kind === 'call') {
            const changes = state.changes;
            const record: (typeof calls)[number] = {
              changes,
              syncsEndedOkAfter: () => okSyncs.some((startedAt) => startedAt >= changes),
            };
            calls.push(record);
            walSync.afterCall().then(
              () => {
                // The property: answered only once a sync that covered this call's writes ended well
                // (or there was nothing new to sync).
                if (changes > 0 && !record.syncsEndedOkAfter()) throw new Error('answered before durable');
                record.outcome = 'ok';
              },
              () => {
                record.outcome = 'failed';
              },
            );
          } else if (s.kind === 'finish') finishNext(s.fail);
          await settle();
        }
        await settle();
        // Every call was answered one way or the other (none waits forever once the disk is idle).
        expect(calls.every((c) => c.outcome !== undefined)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
