/**
 * `courier report` (issue 12): the reporter sees exactly which messages of their own decrypted
 * history would leave the device, and nothing is sent without their yes. Real `courier` processes
 * against a real `courier-server serve`; the server's database is then read for what arrived.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRunner } from './support/cli-process.ts';
import {
  codeFromOutbox,
  freePort,
  killHard,
  type ServerProcess,
  spawnServer,
} from './support/server-process.ts';
import { until } from './support/until.ts';

describe('courier report', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-report-cli-'));
  const outbox = join(dir, 'sms.jsonl');
  const dbPath = join(dir, 'courier.db');
  let server: ServerProcess;
  const cli = cliRunner(dir, () => server.url);
  const unforwarded = `UNFORWARDED-${randomBytes(6).toString('hex')}`;
  const forwarded = [
    `FORWARDED-A-${randomBytes(4).toString('hex')}`,
    `FORWARDED-B-${randomBytes(4).toString('hex')}`,
  ];

  const storedReports = () => {
    const db = new Database(dbPath, { readonly: true });
    try {
      return db.prepare('SELECT reason, comment, messages FROM reports').all() as {
        reason: string;
        comment: string | null;
        messages: string;
      }[];
    } finally {
      db.close();
    }
  };

  async function register(who: string, phone: string, username: string) {
    expect((await cli.courier(who, 'register', phone, '--request-only')).code).toBe(0);
    const code = codeFromOutbox(outbox, phone);
    expect((await cli.courier(who, 'register', phone, '--code', code, '--accept-policy')).code).toBe(0);
    expect((await cli.courier(who, 'username', 'set', username)).code).toBe(0);
  }

  beforeAll(async () => {
    server = await spawnServer(
      {
        COURIER_SQLITE_PATH: dbPath,
        COURIER_SMS_OUTBOX: outbox,
        COURIER_TRANSPARENCY_KEY: join(dir, 'key'),
        COURIER_CERTIFICATION_KEY: join(dir, 'certification.key'),
      },
      await freePort(),
    );
    await register('alice', '+441234567801', 'alice_rep');
    await register('bob', '+441234567802', 'bob_rep');
    for (const text of [unforwarded, ...forwarded])
      expect((await cli.courier('bob', 'send', '@alice_rep', text)).code).toBe(0);
    // Alice's device receives (and so holds, decrypted) the three messages.
    const listen = cli.start('alice', ['listen']);
    await until(() => listen.out().includes(forwarded[1]!), 'the messages on the device');
    listen.child.kill('SIGINT');
    await listen.exit;
  });
  afterAll(async () => {
    for (const child of cli.running) child.kill('SIGKILL');
    if (server) await killHard(server.child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows exactly what would be forwarded and sends nothing without a yes', async () => {
    const run = cli.start('alice', ['report', '@bob_rep', '--last', '2', '--reason', 'abuse']);
    await until(() => run.err().includes('Send this report? [y/N]'), 'the consent question');
    const preview = run.out();
    for (const text of forwarded) expect(preview).toContain(`@bob_rep: ${text}`);
    expect(preview).not.toContain(unforwarded);
    expect(preview).toContain('reason: abuse');
    run.child.stdin?.write('n\n');
    run.child.stdin?.end();
    expect(await run.exit).toBe(0);
    expect(run.out()).toContain('Not sent.');
    expect(storedReports()).toEqual([]);
  });

  it('sends the previewed messages with --yes, and the server holds exactly those', async () => {
    const sent = await cli.courier(
      'alice',
      'report',
      '@bob_rep',
      '--last',
      '2',
      '--reason',
      'spam',
      '--comment',
      'see',
      '--yes',
    );
    expect(sent.code).toBe(0);
    expect(sent.out).toMatch(/Report r_\S+ sent\./);
    const [stored, ...more] = storedReports();
    expect(more).toEqual([]);
    expect(stored!.reason).toBe('spam');
    expect(stored!.comment).toBe('see');
    expect((JSON.parse(stored!.messages) as { text: string }[]).map((m) => m.text)).toEqual(forwarded);
    expect(stored!.messages).not.toContain(unforwarded);
  });

  it('refuses a bad reason, --yes without a reason, and a person with no chat', async () => {
    expect((await cli.courier('alice', 'report', '@bob_rep', '--reason', 'rude', '--yes')).err).toContain(
      'error REPORT_INVALID',
    );
    expect((await cli.courier('alice', 'report', '@bob_rep', '--yes')).err).toContain('error REPORT_INVALID');
    expect(
      (await cli.courier('alice', 'report', 'No such group', '--reason', 'spam', '--yes')).err,
    ).toContain('error GROUP_NOT_FOUND');
  });
});
