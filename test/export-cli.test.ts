import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CourierHttp } from '@courier/sdk';
import { strFromU8, unzipSync } from 'fflate';
import { DeviceStore } from '@courier/cli';
import { describe, expect, it } from 'vitest';
import { cliServer } from './support/cli-process.ts';

const ALICE = '+441234567001';
const BOB = '+12025550177';

/** `courier export` as a person runs it: a real CLI process against a real server process. */
describe('courier export', () => {
  const { courier, register, url, dir } = cliServer('export-cli');

  it("runs the server's export job with progress and adds the conversations this device holds", async () => {
    await register('alice', ALICE);
    await register('bob', BOB);
    expect((await courier('bob', 'username', 'set', 'bob_exports')).code).toBe(0);
    const alice = JSON.parse(readFileSync(join(dir, 'alice', 'session.json'), 'utf8'));
    const bob = JSON.parse(readFileSync(join(dir, 'bob', 'session.json'), 'utf8'));
    const dm = await new CourierHttp(url(), alice.token).openDirect(bob.accountId);
    // What Alice's device holds after a conversation (decrypted on the device, as `courier listen`
    // stores it), and a message of a chat she has since left.
    const store = new DeviceStore(join(dir, 'alice', 'devices', `${alice.deviceId}.db`));
    const message = (groupId: string, seq: number, outgoing: boolean, text: string) => ({
      groupId,
      seq,
      clientMsgId: `m${seq}`,
      senderAccountId: outgoing ? alice.accountId : bob.accountId,
      senderDeviceId: outgoing ? alice.deviceId : bob.deviceId,
      sentAtMs: Date.UTC(2026, 0, 1, 12, seq),
      text,
      outgoing,
    });
    await store.addMessages([
      message(dm.groupId, 1, true, 'the plaintext only devices have'),
      message(dm.groupId, 2, false, 'and <b>a reply</b>'),
      message('g_aChatAliceHasLeft000', 1, false, 'from a chat she left'),
    ]);
    store.close();

    const file = join(dir, 'alice-export.zip');
    const run = await courier('alice', 'export', file);
    expect(run.code, run.err).toBe(0);
    // Progress of the server's job, up to done.
    const progress = [...run.err.matchAll(/Exporting your data from the server: (\d+)% \((\w+)\)/g)];
    expect(progress.at(-1)?.slice(1)).toEqual(['100', 'done']);
    expect(run.out).toContain('2 conversations with 3 messages from this device');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const files = unzipSync(readFileSync(file));
    expect(Object.keys(files).sort()).toEqual([
      'account.json',
      'conversations.html',
      'conversations.json',
      'index.html',
    ]);
    const server_ = JSON.parse(strFromU8(files['account.json']!));
    expect(server_.account.phone).toBe(ALICE);
    expect(JSON.stringify(server_)).not.toContain(BOB);
    const { conversations } = JSON.parse(strFromU8(files['conversations.json']!));
    expect(conversations).toEqual(
      expect.arrayContaining([
        {
          chatId: dm.groupId,
          kind: 'direct',
          title: 'Direct chat with @bob_exports',
          messages: [
            expect.objectContaining({ from: 'me', text: 'the plaintext only devices have' }),
            expect.objectContaining({
              from: '@bob_exports',
              fromAccountId: bob.accountId,
              text: 'and <b>a reply</b>',
            }),
          ],
        },
        {
          chatId: 'g_aChatAliceHasLeft000',
          kind: null,
          title: '(a chat you left)',
          messages: [expect.objectContaining({ text: 'from a chat she left' })],
        },
      ]),
    );
    const html = strFromU8(files['conversations.html']!);
    expect(html).toContain('the plaintext only devices have');
    expect(html).toContain('and &#60;b&#62;a reply&#60;/b&#62;');
  }, 90_000);
});
