import { isErrorCode } from '@courier/protocol';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { createTestDatabase, PG_ADMIN_URL } from './support/postgres.ts';

/** Issue 11, item 13 (part): /readyz tells the truth about writes, and every reply says nosniff. */

describe('/readyz while the database refuses writes', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestServer;
  let admin: pg.Client;
  let name: string;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    db = await createTestDatabase();
    name = new URL(db.url).pathname.slice(1);
    server = await startTestServer({ storage: 'postgres', databaseUrl: db.url });
    admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    await admin.query(`ALTER DATABASE ${name} RESET default_transaction_read_only`);
    await admin.end();
    await server.close();
    await db.drop();
  });

  /** Ends every session of the server's pool (a failover does this): the next ones are new sessions. */
  async function cutSessions(): Promise<void> {
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    for (;;) {
      const { rows } = await admin.query(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
        [name],
      );
      if (rows[0].n === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('is not ready while writes fail (reads still work), and ready again after; the lost sessions do not end the process', async () => {
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    // The database goes read-only, as a demoted primary or a replica does.
    await admin.query(`ALTER DATABASE ${name} SET default_transaction_read_only = on`);
    await cutSessions();
    // A write fails…
    const write = await fetch(`${server.url}/v1/auth/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone: nextPhone(), intent: 'register' }),
    });
    expect(write.status).toBeGreaterThanOrEqual(500);
    // The pool's idle sessions were cut: that was an 'error' on the pool, once fatal.
    expect(uncaught).toEqual([]);
    // …so the node is not ready, though storage still answers reads.
    const notReady = await fetch(`${server.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(isErrorCode((await notReady.json()).error.code)).toBe(true);
    await admin.query(`ALTER DATABASE ${name} RESET default_transaction_read_only`);
    await cutSessions();
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect(uncaught).toEqual([]);
  });
});

describe('X-Content-Type-Options: nosniff on every reply', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it.each([
    ['GET', '/', undefined],
    ['GET', '/healthz', undefined],
    ['GET', '/readyz', undefined],
    ['GET', '/privacy', undefined],
    ['GET', '/no-such-route', undefined],
    ['GET', '/v1/me', undefined],
    ['POST', '/v1/auth/code', '{"phone":1}'],
    ['POST', '/v1/auth/code', 'not json'],
    ['POST', '/v1/auth/code', JSON.stringify({ phone: 'x'.repeat(2 * 1024 * 1024), intent: 'login' })],
  ])('%s %s', async (method, path, body) => {
    const reply = await fetch(`${server.url}${path}`, {
      method,
      ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
    });
    expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it.each([
    ['no key', 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n'],
    [
      'an unknown version',
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 99\r\n',
    ],
  ])('a WebSocket handshake with %s: REQ_INVALID in the envelope', async (_what, headers) => {
    const answer = await rawAnswer(`GET /v1/ws HTTP/1.1\r\nHost: x\r\n${headers}\r\n`);
    expect(answer.startsWith('HTTP/1.1 400')).toBe(true);
    expect(answer.toLowerCase()).toContain('x-content-type-options: nosniff');
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error.code).toBe('REQ_INVALID');
  });

  const rawAnswer = async (bytes: string) => {
    const { connect } = await import('node:net');
    return new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
      let text = '';
      socket.on('data', (d) => {
        text += String(d);
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve(text));
      socket.write(bytes);
    });
  };

  it('an answer from the HTTP parser (bad bytes) too', async () => {
    const { connect } = await import('node:net');
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
      let text = '';
      socket.on('data', (d) => {
        text += String(d);
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve(text));
      socket.write('NOT HTTP AT ALL\r\n\r\n');
    });
    expect(answer.startsWith('HTTP/1.1 400')).toBe(true);
    expect(answer.toLowerCase()).toContain('x-content-type-options: nosniff');
  });
});
