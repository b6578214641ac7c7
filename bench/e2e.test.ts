/**
 * The end-to-end workload (`npm run bench -- e2e`) scaled down: 2 pairs and a group of 6 filled in
 * commits of 3, with real SecureClients and SQLite device stores in 2 worker processes against a real
 * server process.
 * It checks the figures' shape and that every message was decrypted exactly once by each recipient
 * (never timings).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchServer } from './bench-server.ts';
import { E2E_FIGURES, runE2e } from './e2e.ts';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('e2e bench workload (scaled down)', () => {
  let server: BenchServer;
  // The device stores' parent folder, this test's own (a bench run elsewhere makes folders of its own).
  const parent = mkdtempSync(join(tmpdir(), 'e2e-test-'));
  beforeAll(async () => {
    server = await BenchServer.start('sqlite', await freePort());
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(parent, { recursive: true, force: true });
  });

  it('decrypts every 1:1 and group message exactly once per recipient, and prints every figure', async () => {
    const params = {
      pairs: 2,
      messages: 8,
      members: 6,
      burst: 6,
      senders: 2,
      perCommit: 3,
      latencyMessages: 3,
      workers: 2,
      joinConcurrency: 2,
    };
    const result = await runE2e(server, params, 'sqlite', parent);

    // 2 pairs × 2 senders × 2 messages, each to the partner.
    expect(result.pairs).toEqual({ expected: 8, exactlyOnce: 8, duplicated: 0, missing: 0, unexpected: 0 });
    // 3 latency messages and 6 burst messages, each to the 5 other members.
    expect(result.group).toEqual({ expected: 45, exactlyOnce: 45, duplicated: 0, missing: 0, unexpected: 0 });
    expect(result.joined).toBe(5);

    expect(result.figures.map((f) => f.figure)).toEqual([...E2E_FIGURES]);
    for (const line of result.figures) {
      expect(line).toMatchObject({
        bench: 'e2e',
        storage: 'sqlite',
        unit: expect.any(String),
        params: { ...params, size: 200 },
        load: expect.any(Number),
      });
      expect(line.target).toBeUndefined();
      expect(line.error).toBeUndefined();
      expect(typeof line.value, JSON.stringify(line)).toBe('number');
      expect(Number.isFinite(line.value), JSON.stringify(line)).toBe(true);
      expect(line.value!).toBeGreaterThanOrEqual(0);
    }
    // Each output line is plain JSON (../shared/BENCH.md).
    for (const line of result.figures) expect(JSON.parse(JSON.stringify(line))).toEqual(line);

    // The device stores' temporary folders are gone.
    expect(readdirSync(parent)).toEqual([]);
  }, 600_000);
});
