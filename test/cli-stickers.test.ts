import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRunner } from './support/cli-process.ts';
import { startTestServer, type TestServer } from './support/harness.ts';
import { animatedWebp, stillPng } from './support/sticker-images.ts';
import { until } from './support/until.ts';

const ALICE = '+441234567316';
const BOB = '+12025550316';

/** `courier sticker …` as people run it: real processes, a real server. */
describe('courier sticker', { timeout: 1_200_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-sticker-cli-'));
  let server: TestServer;
  const step = (what: string) => process.stderr.write(`[cli-stickers ${new Date().toISOString()}] ${what}\n`);
  const { courier, start, running } = cliRunner(dir, () => server.url);
  /** Signs a profile up as a script does: `--request-only`, then `--code` (the server's test SMS). */
  const register = async (who: string, phone: string) => {
    const asked = await courier(who, 'register', phone, '--request-only');
    if (asked.code !== 0) throw new Error(`register ${phone} --request-only: ${asked.err}`);
    const code = server.sms.lastCode(phone);
    const done = await courier(who, 'register', phone, '--code', code, '--accept-policy');
    if (done.code !== 0) throw new Error(`register ${phone}: ${done.err}`);
  };

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes a pack, uploads stickers (a PNG renamed .webp is refused), shows it, and sends one that listen and history show', async () => {
    await register('alice', ALICE);
    await register('bob', BOB);
    expect((await courier('bob', 'username', 'set', 'bob_sticker')).code).toBe(0);
    expect((await courier('alice', 'username', 'set', 'alice_sticker')).code).toBe(0);
    const dm = await courier('bob', 'dm', '@alice_sticker');
    expect(dm.code, dm.err).toBe(0);

    step('registered');
    const created = await courier('alice', 'sticker', 'pack', 'create', 'alice_cats', 'Alice’s', 'cats');
    expect(created.code, created.err).toBe(0);
    expect(created.out).toMatch(
      /Created sticker pack alice_cats \(Alice’s cats\)\..*\/addstickers\/alice_cats/,
    );

    const png = join(dir, 'smile.png');
    writeFileSync(png, await stillPng(512, 400));
    const added = await courier('alice', 'sticker', 'add', 'alice_cats', png, '😀');
    expect(added.code, added.err).toBe(0);
    expect(added.out).toMatch(/Added to alice_cats: #1 😀 {2}512×400 PNG/);

    const moving = join(dir, 'wave.webp');
    writeFileSync(moving, await animatedWebp(3));
    const animated = await courier('alice', 'sticker', 'add', 'alice_cats', moving, '👋');
    expect(animated.code, animated.err).toBe(0);
    expect(animated.out).toMatch(/#2 👋 {2}512×512 WebP, animated \(3 frames\)/);

    const renamed = join(dir, 'renamed.webp');
    writeFileSync(renamed, await stillPng());
    const refused = await courier('alice', 'sticker', 'add', 'alice_cats', renamed, '😀');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/STICKER_TYPE_MISMATCH/);
    step('stickers added');
    const shown = await courier('bob', 'sticker', 'pack', 'show', `${server.url}/addstickers/alice_cats`);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toMatch(/Alice’s cats \(alice_cats\) — 2 sticker\(s\)/);
    expect(shown.out).toMatch(/#1 😀/);
    expect(shown.out).toMatch(/#2 👋 .*animated/);

    step('pack shown');
    const listen = start('bob', ['listen']);
    const sent = await courier('alice', 'sticker', 'send', '@bob_sticker', 'alice_cats', '👋');
    expect(sent.code, sent.err).toBe(0);
    expect(sent.out).toMatch(/Sent sticker 👋 from pack alice_cats to @bob_sticker \(#\d+\)/);
    const byIndex = await courier('alice', 'sticker', 'send', '@bob_sticker', 'alice_cats', '1');
    expect(byIndex.code, byIndex.err).toBe(0);
    await until(
      () => listen.out().includes('[sticker 😀 from pack alice_cats]'),
      'both stickers in listen',
      120_000,
    );
    listen.child.kill('SIGINT');
    await listen.exit;
    expect(listen.out()).toMatch(/: \[sticker 👋 from pack alice_cats\]/);

    step('seen in listen');
    const history = await courier('bob', 'history', '@alice_sticker');
    expect(history.code, history.err).toBe(0);
    expect(history.out).toMatch(/\[sticker 👋 from pack alice_cats\]/);
    expect(history.out).toMatch(/\[sticker 😀 from pack alice_cats\]/);
  });
});
