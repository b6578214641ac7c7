import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECEIPT_MAX_DEVICES } from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRunner } from './support/cli-process.ts';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { preparedDevices, type SecureDevice, secureDevice } from './support/secure.ts';
import { until } from './support/until.ts';

const OFF = 'Receipts are off in groups of more than 100 devices';

/**
 * A group of more devices than receipts are sent in (issue 15), on the CLI: `listen` and `chat` say
 * that receipts are off there, and so does `history` (its JSON too). The group: an SDK device adds the
 * CLI person and 99 others (key packages published, never started), 101 devices.
 */
describe('courier: receipts off in a large group', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-receipts-off-cli-'));
  let server: TestServer;
  const devices: SecureDevice[] = [];
  const { courier, start, running } = cliRunner(dir, () => server.url);

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    for (const d of devices) await d.client.stop().catch(() => {});
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listen, chat and history say so', async () => {
    const bobPhone = nextPhone();
    expect((await courier('bob', 'register', bobPhone, '--request-only')).code).toBe(0);
    const registered = await courier(
      'bob',
      'register',
      bobPhone,
      '--code',
      server.sms.lastCode(bobPhone),
      '--accept-policy',
    );
    expect(registered.code, registered.err).toBe(0);
    const bobId = (JSON.parse((await courier('bob', '--json', 'whoami')).out) as { accountId: string })
      .accountId;
    const alice = await secureDevice(server, await server.register(nextPhone()));
    devices.push(alice);
    const prepared = await preparedDevices(server, RECEIPT_MAX_DEVICES - 1);
    devices.push(...prepared);
    const others = prepared.map((d) => d.user.accountId);

    const listen = start('bob', ['listen']);
    await until(() => listen.err().includes('(connected)'), 'bob listening', 60_000);
    const crowd = await alice.client.createGroup('Crowd', [bobId, ...others]);
    await alice.client.sendText(crowd.groupId, 'hello everyone');
    await until(() => listen.out().includes(': hello everyone'), 'the message in listen', 60_000);
    await until(() => listen.err().includes(OFF), 'the receipts line in listen', 30_000);
    listen.child.kill('SIGINT');
    expect(await listen.exit).toBe(0);

    // chat, with piped input: says it on opening; the typed line goes out.
    const chat = start('bob', ['chat', crowd.groupId]);
    chat.child.stdin?.end('hi all\n');
    expect(await chat.exit).toBe(0);
    expect(chat.err()).toContain(OFF);
    await alice.waitFor(crowd.groupId, 1, 60_000);

    const history = await courier('bob', 'history', crowd.groupId);
    expect(history.code, history.err).toBe(0);
    expect(history.err).toContain(OFF);
    expect(history.out).toContain('hi all');
    expect(history.out).not.toContain('delivered');
    const json = await courier('bob', '--json', 'history', crowd.groupId);
    expect(json.code, json.err).toBe(0);
    expect((JSON.parse(json.out) as { receipts: string }).receipts).toBe('off_large_group');

    // A direct chat is under the limit: no such line.
    const direct = await alice.client.openDirect(bobId);
    await alice.client.sendText(direct.groupId, 'just us');
    const dm = start('bob', ['listen']);
    await until(() => dm.out().includes(': just us'), 'the direct message', 60_000);
    dm.child.kill('SIGINT');
    await dm.exit;
    expect(dm.err()).not.toContain(OFF);
  });
});
