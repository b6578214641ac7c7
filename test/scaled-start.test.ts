/**
 * Issue 11 item 12: the scaled shape starts as docs/operations.md says, on a fresh machine, as
 * real processes: a missing database is created (or refused in one line when the role may not),
 * a witness left by an embedded run in the same data folder does not stop a node, a second node
 * is a copy of the first node's keys away, and a node with other keys refuses to start.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { NATS_URL, PG_ADMIN_URL } from './support/postgres.ts';
import { freePort, killHard, type ServerProcess, spawnServer } from './support/server-process.ts';

const root = fileURLToPath(new URL('../', import.meta.url));

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function urlFor(database: string, user?: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  if (user) url.username = user;
  return url.toString();
}

/** Runs a courier-server command to its end; its exit code and output. */
function runServerCommand(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'packages/server/src/main.ts', ...args],
      { cwd: root, env: { ...process.env, COURIER_LOG_LEVEL: 'warn', ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('the scaled shape, started as the operations guide says', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const dropDatabase = (name: string) => () =>
    admin(async (client) => {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });

  const start = async (env: Record<string, string>): Promise<ServerProcess> => {
    const server = await spawnServer(env, await freePort());
    cleanups.push(() => killHard(server.child));
    return server;
  };

  it('creates the database, ignores an embedded run’s witness, and takes a second node with the same keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-scaled-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const database = `courier_fresh_${randomBytes(5).toString('hex')}`;
    cleanups.push(dropDatabase(database));
    const first = join(dir, 'node-1');

    // The README's first step on this machine: an embedded run (SQLite) in the same data folder.
    const embedded = await start({ COURIER_DATA_DIR: first });
    await killHard(embedded.child);

    // Node 1 of the scaled shape: a database that does not exist yet, NATS, the same folder.
    const scaled = { COURIER_DATABASE_URL: urlFor(database), COURIER_NATS_URL: NATS_URL };
    const node1 = await start({ ...scaled, COURIER_DATA_DIR: first });
    expect((await fetch(`${node1.url}/readyz`)).status).toBe(200);

    // Node 2: a copy of node 1's keys in its own data folder.
    const second = join(dir, 'node-2');
    mkdirSync(second, { mode: 0o700 });
    for (const key of ['transparency-signing.key', 'device-certification.key', 'relay-subset.key']) {
      copyFileSync(join(first, key), join(second, key));
    }
    const node2 = await start({ ...scaled, COURIER_DATA_DIR: second });
    const checkpoint = async (url: string) => (await fetch(`${url}/v1/transparency/checkpoint`)).text();
    expect(await checkpoint(node2.url)).toBe(await checkpoint(node1.url));

    // A node that was not given the keys refuses to start, saying why, in words.
    const stray = await runServerCommand(['serve'], {
      ...scaled,
      COURIER_DATA_DIR: join(dir, 'stray'),
      COURIER_DEV: '1',
      COURIER_PORT: String(await freePort()),
    });
    expect(stray.code).toBe(1);
    expect(stray.stderr).toMatch(/every node of a deployment needs the same keys/);
    expect(stray.stderr).not.toMatch(/\n\s+at /);
  });

  it('says in one line, with its code, that the database is missing when the role may not create it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-scaled-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const role = `courier_nocreate_${randomBytes(4).toString('hex')}`;
    await admin((client) => client.query(`CREATE ROLE ${role} LOGIN NOCREATEDB`));
    cleanups.push(() =>
      admin(async (client) => {
        await client.query(`DROP ROLE IF EXISTS ${role}`);
      }),
    );
    const database = `courier_absent_${randomBytes(5).toString('hex')}`;
    const result = await runServerCommand(['migrate'], {
      COURIER_DATABASE_URL: urlFor(database, role),
      COURIER_DATA_DIR: dir,
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^error SERVER_DATABASE_MISSING: database "${database}" does not exist .*${role} may not create it`,
      ),
    );
    const exists = await admin((client) =>
      client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]),
    );
    expect(exists.rowCount).toBe(0);
  });
});
