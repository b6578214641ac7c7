import { statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliServer } from './support/cli-process.ts';
import { until } from './support/until.ts';

const ALICE = '+441234567311';
const BOB = '+12025550311';
const CAROL = '+12025550312';

/** `courier channel …` and channel posts in `listen`, as people run them: real processes, a real server. */
describe('courier channel', { timeout: 240_000 }, () => {
  const { courier, start, register, dir } = cliServer('channel-cli');
  beforeAll(async () => {
    await register('alice', ALICE);
    await register('bob', BOB);
    await register('carol', CAROL);
  }, 240_000);

  it('creates, subscribes, posts live into listen marked as public, edits, shows, and refuses a non-admin', async () => {
    const created = await courier('alice', 'channel', 'create', 'cli_news', 'CLI', 'News');
    expect(created.code, created.err).toBe(0);
    expect(created.out).toContain('Created @cli_news');
    expect(created.out).toContain('not end-to-end encrypted');
    // The channel's secret key stays in Alice's profile, readable by her only.
    expect(statSync(join(dir, 'alice', 'channels.json')).mode & 0o777).toBe(0o600);

    const subscribed = await courier('bob', 'channel', 'subscribe', '@cli_news');
    expect(subscribed.code, subscribed.err).toBe(0);
    expect(subscribed.out).toContain('Pinned its key');

    const listen = start('bob', ['listen']);
    await until(() => listen.err().includes('connected'), 'bob connected', 60_000);
    const posted = await courier('alice', 'channel', 'post', '@cli_news', 'hello', 'subscribers');
    expect(posted.code, posted.err).toBe(0);
    await until(() => listen.out().includes('hello subscribers'), 'the post in listen', 60_000);
    listen.child.kill('SIGINT');
    await listen.exit;
    const line = listen
      .out()
      .split('\n')
      .find((l) => l.includes('hello subscribers'))!;
    expect(line).toContain('[@cli_news · public channel, not end-to-end encrypted]');

    const postId = /\(([A-Za-z0-9_-]{32})\)/.exec(posted.out)![1]!;
    expect(
      (await courier('alice', 'channel', 'edit', '@cli_news', postId.slice(0, 8), 'hello', 'again')).code,
    ).toBe(0);
    const shown = await courier('bob', 'channel', 'show', '@cli_news');
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toContain('hello again (edited)');
    expect(shown.out).not.toContain('hello subscribers');

    const refused = await courier('bob', 'channel', 'post', '@cli_news', 'not mine');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('CHANNEL_NOT_ADMIN');
    const list = await courier('bob', 'channel', 'show');
    expect(list.out).toContain('@cli_news');
    expect((await courier('bob', 'channel', 'unsubscribe', '@cli_news')).code).toBe(0);
    expect((await courier('bob', 'channel', 'show')).out).toContain('No channels');
  });

  it('channel edit --title/--description: the owner changes them, a subscriber sees them, a non-admin and bad input are refused', async () => {
    expect((await courier('alice', 'channel', 'create', 'cli_desk', 'Old', 'title')).code).toBe(0);
    expect((await courier('bob', 'channel', 'subscribe', '@cli_desk')).code).toBe(0);

    const help = await courier('alice', 'channel', 'edit', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('--title <text>');
    expect(help.out).toContain('--description <text>');

    const edited = await courier(
      'alice',
      'channel',
      'edit',
      '@cli_desk',
      '--title',
      'New title',
      '--description',
      'What we post, weekly',
    );
    expect(edited.code, edited.err).toBe(0);
    expect(edited.out).toContain('@cli_desk  "New title"');
    expect(edited.out).toContain('Description: What we post, weekly');
    const shown = await courier('bob', 'channel', 'show', '@cli_desk');
    expect(shown.out).toContain('"New title"');
    expect(shown.out).toContain('What we post, weekly');

    // Only the description (cleared); the title stays. JSON output carries the channel.
    const cleared = await courier('alice', '--json', 'channel', 'edit', '@cli_desk', '--description', '');
    expect(cleared.code, cleared.err).toBe(0);
    expect(JSON.parse(cleared.out)).toMatchObject({ name: 'cli_desk', title: 'New title', description: '' });

    const refused = await courier('bob', 'channel', 'edit', '@cli_desk', '--title', 'Mine');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('CHANNEL_NOT_ADMIN');
    const tooLong = await courier('alice', 'channel', 'edit', '@cli_desk', '--title', 'x'.repeat(129));
    expect(tooLong.code).toBe(1);
    expect(tooLong.err).toContain('CHANNEL_INVALID');
    const both = await courier('alice', 'channel', 'edit', '@cli_desk', 'abcdefgh', '--title', 'T');
    expect(both.code).toBe(1);
    expect(both.err).toContain('REQ_INVALID');
    const nothing = await courier('alice', 'channel', 'edit', '@cli_desk');
    expect(nothing.code).toBe(1);
    expect(nothing.err).toContain('REQ_INVALID');
    expect((await courier('bob', 'channel', 'show', '@cli_desk')).out).toContain('"New title"');
  });

  it('a private channel: invite link admits, revoked link admits no one', async () => {
    const made = await courier(
      'alice',
      'channel',
      'create',
      'cli_secret',
      'Secret',
      '--private',
      '--description',
      'Friends only',
    );
    expect(made.code, made.err).toBe(0);
    const byName = await courier('bob', 'channel', 'subscribe', '@cli_secret');
    expect(byName.code).toBe(1);
    expect(byName.err).toContain('CHANNEL_PRIVATE');
    const invite = await courier('alice', 'channel', 'invite', '@cli_secret');
    expect(invite.code, invite.err).toBe(0);
    const link = invite.out.split('\n')[0]!;
    expect(link).toContain('#channel-invite=');
    // The link shows what it leads to before joining (nothing joined by looking).
    const preview = await courier('bob', 'channel', 'show', '--invite', link);
    expect(preview.code, preview.err).toBe(0);
    expect(preview.out).toContain('Invitation to @cli_secret  "Secret"  private, 1 subscriber');
    expect(preview.out).toContain('\nFriends only\n');
    expect(preview.out).toMatch(/Key: [0-9a-f]{4}( [0-9a-f]{4}){7}/);
    expect(preview.out).toContain('Not joined yet');
    expect((await courier('bob', 'channel', 'show')).out).not.toContain('@cli_secret');
    expect((await courier('bob', 'channel', 'subscribe', link)).code).toBe(0);
    expect((await courier('bob', 'channel', 'show', link)).out).toContain(
      'You are already in it (subscriber)',
    );
    const inviteId = /--revoke ([A-Za-z0-9_-]+)/.exec(invite.out)![1]!;
    expect((await courier('alice', 'channel', 'invite', '@cli_secret', '--revoke', inviteId)).code).toBe(0);
    const late = await courier('carol', 'channel', 'subscribe', link);
    expect(late.code).toBe(1);
    expect(late.err).toContain('CHANNEL_INVITE_INVALID');
    const gone = await courier('carol', 'channel', 'show', '--invite', link);
    expect(gone.code).toBe(1);
    expect(gone.err).toContain('CHANNEL_INVITE_INVALID');
  });
});
