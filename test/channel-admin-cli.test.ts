import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliServer } from './support/cli-process.ts';
import { noisyPng } from './support/sticker-images.ts';
import { until } from './support/until.ts';

const ALICE = '+441234567411';
const BOB = '+12025550411';
const CAROL = '+12025550412';

/**
 * Issue 16 as people run it: the owner names an admin with `courier channel admin add`; the admin's
 * `listen` says the channel key arrived; the admin posts a photo with `channel post --file`; a
 * subscriber sees it in `channel show` and saves it with `channel download`; once removed, the
 * admin's posts are refused.
 */
describe('courier channel admin and channel media', { timeout: 240_000 }, () => {
  const { courier, start, register, dir } = cliServer('channel-admin-cli');
  beforeAll(async () => {
    await register('alice', ALICE);
    await register('bob', BOB);
    await register('carol', CAROL);
    expect((await courier('bob', 'username', 'set', 'cli_admin_bob')).code).toBe(0);
  }, 240_000);

  it('hands the key over, the admin posts a photo, a subscriber saves it; a removed admin cannot post', async () => {
    expect((await courier('alice', 'channel', 'create', 'cli_keys', 'Keys')).code).toBe(0);
    expect((await courier('carol', 'channel', 'subscribe', '@cli_keys')).code).toBe(0);
    // Bob's device is ready for end-to-end chats (its key packages published) before Alice writes.
    const listen = start('bob', ['listen']);
    await until(() => listen.err().includes('connected'), 'bob connected', 60_000);

    const added = await courier('alice', 'channel', 'admin', 'add', '@cli_keys', '@cli_admin_bob');
    expect(added.code, added.err).toBe(0);
    expect(added.out).toContain('@cli_admin_bob is now an admin of @cli_keys');
    await until(
      () => listen.out().includes('channel key received for @cli_keys'),
      'the key in listen',
      60_000,
    );
    listen.child.kill('SIGINT');
    await listen.exit;

    // The owner and the admin see who runs the channel (by username, never a phone number); a subscriber may not.
    const listed = await courier('alice', 'channel', 'admin', 'list', '@cli_keys');
    expect(listed.code, listed.err).toBe(0);
    expect(listed.out).toMatch(/owner {2}\(no username\)/);
    expect(listed.out).toMatch(/admin {2}@cli_admin_bob/);
    expect(listed.out).not.toContain(BOB.slice(1));
    expect((await courier('bob', 'channel', 'admin', 'list', '@cli_keys')).out).toContain('@cli_admin_bob');
    const notAdmin = await courier('carol', 'channel', 'admin', 'list', '@cli_keys');
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.err).toContain('CHANNEL_NOT_ADMIN');

    const photo = await noisyPng(64, 48);
    writeFileSync(join(dir, 'dot.png'), photo);
    const posted = await courier('bob', 'channel', 'post', '@cli_keys', '--file', join(dir, 'dot.png'));
    expect(posted.code, posted.err).toBe(0);
    expect(posted.out).toContain('dot.png (image/png');

    const shown = await courier('carol', 'channel', 'show', '@cli_keys');
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toContain('[file] dot.png (image/png');
    expect(shown.out).toContain('64×48');
    const postId = /\(([A-Za-z0-9_-]{32})\)/.exec(posted.out)![1]!;
    const saved = join(dir, 'saved.png');
    const downloaded = await courier('carol', 'channel', 'download', '@cli_keys', postId.slice(0, 8), saved);
    expect(downloaded.code, downloaded.err).toBe(0);
    expect(readFileSync(saved).equals(photo)).toBe(true);

    const removed = await courier('alice', 'channel', 'admin', 'remove', '@cli_keys', '@cli_admin_bob');
    expect(removed.code, removed.err).toBe(0);
    expect(removed.out).toContain('new channel');
    const refused = await courier('bob', 'channel', 'post', '@cli_keys', 'still here?');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('CHANNEL_NOT_ADMIN');
    const after = await courier('alice', 'channel', 'admin', 'list', '@cli_keys');
    expect(after.out).not.toContain('@cli_admin_bob');
  });
});
