/**
 * Issue 11 item 7: a SQLite file locked by another process must not stop every socket. The server
 * waits for the lock between short retries with the event loop free, so /healthz and WebSocket
 * pings answer while a write waits; after its bound the write fails with SERVER_STORAGE_BUSY.
 * Behaviour only: the answers arrive while the write is still pending, whatever the timings.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GATEWAY_PATH } from '@courier/protocol';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';

type Settled = { state: 'pending' } | { state: 'done'; value: unknown } | { state: 'failed'; error: unknown };

function track(promise: Promise<unknown>): { settled: Settled; promise: Promise<unknown> } {
  const tracked = { settled: { state: 'pending' } as Settled, promise };
  promise.then(
    (value) => {
      tracked.settled = { state: 'done', value };
    },
    (error: unknown) => {
      tracked.settled = { state: 'failed', error };
    },
  );
  return tracked;
}

describe('a SQLite file locked by another connection', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(busyWaitMs: number) {
    const dir = mkdtempSync(join(tmpdir(), 'courier-busy-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const sqlitePath = join(dir, 'courier.db');
    const server: TestServer = await startTestServer({ sqlitePath, sqliteBusyWaitMs: busyWaitMs });
    cleanups.push(() => server.close());
    const user = await server.register(nextPhone());
    // Another writer (a second process, or an operator's sqlite3 shell) takes the write lock.
    const other = new Database(sqlitePath);
    cleanups.push(() => {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    });
    other.exec('BEGIN IMMEDIATE');
    return { server, user, other };
  }

  it('keeps /healthz and WebSocket pings answering while a write waits for the lock', async () => {
    // A wait far longer than the test: the write is still waiting when the answers arrive.
    const { server, user, other } = await setUp(10 * 60_000);
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}${GATEWAY_PATH}`);
    cleanups.push(() => socket.terminate());
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });

    const write = track(user.http.setUsername('locked_out_user'));
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const pong = new Promise<void>((resolve) => socket.once('pong', () => resolve()));
    socket.ping();
    await pong;
    // Both answered while the write still waits for the other connection's lock.
    expect(write.settled).toEqual({ state: 'pending' });

    other.exec('ROLLBACK');
    await write.promise;
    expect(write.settled.state).toBe('done');
    expect((await user.http.me()).username).toBe('locked_out_user');
  });

  it('gives up after its bound with SERVER_STORAGE_BUSY, and writes again once the lock is gone', async () => {
    const { user, other } = await setUp(30);
    await expect(user.http.setUsername('still_locked')).rejects.toMatchObject({
      code: 'SERVER_STORAGE_BUSY',
    });
    other.exec('ROLLBACK');
    await user.http.setUsername('unlocked_user');
    expect((await user.http.me()).username).toBe('unlocked_user');
  });
});
