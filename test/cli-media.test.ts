import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { cliServer } from './support/cli-process.ts';
import { until } from './support/until.ts';

const ALICE = '+441234567301';
const BOB = '+12025550301';
const CAROL = '+12025550302';

/** `courier send-file`, `listen` and `download` as people run them: real processes, a real server. */
describe('courier send-file and download', { timeout: 180_000 }, () => {
  const { courier, start, register, dir } = cliServer('media-cli');

  it('sends a file with a progress bar; the other side sees it in listen and downloads the same bytes', async () => {
    await register('alice', ALICE);
    await register('bob', BOB);
    expect((await courier('bob', 'username', 'set', 'bob_media')).code).toBe(0);
    expect((await courier('alice', 'username', 'set', 'alice_media')).code).toBe(0);
    // Bob opens the chat (his device publishes its key packages on the way).
    const dm = await courier('bob', 'dm', '@alice_media');
    expect(dm.code, dm.err).toBe(0);
    const file = join(dir, 'holiday photo.jpg');
    const bytes = randomBytes(900_000);
    writeFileSync(file, bytes);
    const sent = await courier('alice', 'send-file', '@bob_media', file);
    expect(sent.code, sent.err).toBe(0);
    expect(sent.out).toMatch(/Sent holiday photo\.jpg \(image\/jpeg, 900\.0 KB\)/);
    expect(sent.err).toMatch(/100% 900\.\d KB/);

    const listen = start('bob', ['listen']);
    await until(() => listen.out().includes('[file]'), 'the file message in listen', 60_000);
    listen.child.kill('SIGINT');
    await listen.exit;
    const line = listen
      .out()
      .split('\n')
      .find((l) => l.includes('[file]'))!;
    expect(line).toMatch(
      /: \[file\] holiday photo\.jpg \(image\/jpeg, 900\.0 KB\) — courier download [0-9a-f]{32}$/,
    );
    const blobId = /download ([0-9a-f]{32})$/.exec(line)![1]!;

    const target = join(dir, 'got.jpg');
    const got = await courier('bob', 'download', blobId, target);
    expect(got.code, got.err).toBe(0);
    expect(got.err).toMatch(/100%/);
    expect(readFileSync(target).equals(bytes)).toBe(true);

    const unknown = await courier('bob', 'download', 'ab'.repeat(16));
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/MEDIA_NOT_FOUND/);
  });

  it('forwards the file to another chat without uploading it again; the other person sees it forwarded and downloads the same bytes', async () => {
    await register('carol', CAROL);
    expect((await courier('carol', 'username', 'set', 'carol_media')).code).toBe(0);
    // Carol cannot fetch the file Alice sent Bob, even knowing its id.
    const file = join(dir, 'holiday photo.jpg');
    const history = await courier('alice', '--json', 'history', '@bob_media');
    expect(history.code, history.err).toBe(0);
    const page = JSON.parse(history.out) as {
      messages: { seq: number; file?: { blobId: string; name: string } }[];
    };
    const sentLine = page.messages.find((m) => m.file?.name === 'holiday photo.jpg')!;
    const blobId = sentLine.file!.blobId;
    expect((await courier('carol', 'download', blobId)).err).toMatch(/MEDIA_NOT_FOUND/);
    const dm = await courier('carol', 'dm', '@alice_media');
    expect(dm.code, dm.err).toBe(0);

    const forwarded = await courier('alice', 'forward', '@bob_media', `#${sentLine.seq}`, '@carol_media');
    expect(forwarded.code, forwarded.err).toBe(0);
    expect(forwarded.out).toMatch(/^Forwarded #\d+ to @carol_media \(#\d+\)\.$/m);

    const listen = start('carol', ['listen']);
    await until(() => listen.out().includes('[file]'), 'the forwarded file in listen', 60_000);
    listen.child.kill('SIGINT');
    await listen.exit;
    const line = listen
      .out()
      .split('\n')
      .find((l) => l.includes('[file]'))!;
    expect(line).toMatch(
      new RegExp(
        `: \\(forwarded from [^)]+\\) \\[file\\] holiday photo\\.jpg \\(image/jpeg, 900\\.0 KB\\) — courier download ${blobId}$`,
      ),
    );
    const target = join(dir, 'carol-got.jpg');
    const got = await courier('carol', 'download', blobId, target);
    expect(got.code, got.err).toBe(0);
    expect(readFileSync(target).equals(readFileSync(file))).toBe(true);
  });

  it('sends a photo with its dimensions and a thumbnail made by sharp inside the message', async () => {
    // A real 1600×900 photo (sharp writes it), sent after the test above registered both people.
    const photo = join(dir, 'beach.png');
    await sharp({ create: { width: 1600, height: 900, channels: 3, background: '#3a86ff' } })
      .composite([
        {
          input: randomBytes(400 * 300 * 3),
          raw: { width: 400, height: 300, channels: 3 },
          left: 200,
          top: 100,
        },
      ])
      .png()
      .toFile(photo);
    const sent = await courier('alice', 'send-file', '@bob_media', photo);
    expect(sent.code, sent.err).toBe(0);
    const listen = start('bob', ['--json', 'listen']);
    await until(() => listen.out().includes('beach.png'), 'the photo message in listen', 60_000);
    listen.child.kill('SIGINT');
    await listen.exit;
    const message = listen
      .out()
      .split('\n')
      .filter((l) => l.includes('beach.png'))
      .map((l) => JSON.parse(l) as { file: { width: number; height: number; hasPreview: boolean } })[0]!;
    expect(message.file).toMatchObject({ width: 1600, height: 900, hasPreview: true });
  });
});
