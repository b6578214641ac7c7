import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bytesSource,
  CourierHttp,
  describeUpload,
  downloadDecryptedFile,
  uploadEncryptedFile,
} from '@courier/sdk';
import { encodeBase64 } from '@courier/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { nextPhone, type TestUser } from './support/harness.ts';
import { createTestDatabase } from './support/postgres.ts';
import { secureDevice } from './support/secure.ts';
import {
  codeFromOutbox,
  freePort,
  killHard,
  type ServerProcess,
  spawnServer,
} from './support/server-process.ts';

/** Every file under a folder, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** How often the marker occurs in the bytes: as UTF-8, UTF-16 and hex (how PostgreSQL dumps bytea). */
function hits(bytes: Buffer, marker: string): number {
  let count = 0;
  for (const needle of [
    Buffer.from(marker, 'utf8'),
    Buffer.from(marker, 'utf16le'),
    Buffer.from(Buffer.from(marker, 'utf8').toString('hex'), 'utf8'),
  ]) {
    for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + 1)) count += 1;
  }
  return count;
}

/**
 * DESIGN P4 as a property: messages with a random marker go through direct chats and a group; then
 * every byte the server wrote (database files and WAL, key files, SMS outbox, its log at debug level,
 * and for PostgreSQL a full data dump) is scanned for the marker. Zero hits. The one exception is a
 * report (issue 12): the message its reporter chose to forward, with its own marker, is found in the
 * database and nowhere else, and nothing of the messages not forwarded.
 */
describe.each(['sqlite', 'postgres'] as const)('the server never holds plaintext (%s)', (storage) => {
  const dir = mkdtempSync(join(tmpdir(), `courier-confidential-${storage}-`));
  let server: ServerProcess | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  afterAll(async () => {
    if (server) await killHard(server.child);
    await dropDatabase?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds no marker in anything the server wrote', async () => {
    const outbox = join(dir, 'sms.jsonl');
    let databaseUrl: string | undefined;
    const env: Record<string, string> = {
      COURIER_SMS_OUTBOX: outbox,
      COURIER_DATA_DIR: dir,
      COURIER_TRANSPARENCY_KEY: join(dir, 'transparency.key'),
      COURIER_CERTIFICATION_KEY: join(dir, 'certification.key'),
      COURIER_LOG_LEVEL: 'trace',
    };
    if (storage === 'postgres') {
      const db = await createTestDatabase();
      databaseUrl = db.url;
      dropDatabase = db.drop;
      env.COURIER_DATABASE_URL = db.url;
    } else {
      env.COURIER_SQLITE_PATH = join(dir, 'courier.db');
    }
    server = await spawnServer(env, await freePort());
    const register = async (): Promise<TestUser> => {
      const phone = nextPhone();
      const http = new CourierHttp(server!.url);
      await http.requestCode(phone, 'register');
      const { version } = await http.privacyPolicy();
      const reply = await http.verifyCode(phone, codeFromOutbox(outbox, phone), 'register', 'scan', version);
      http.setToken(reply.token);
      return { phone, accountId: reply.accountId, deviceId: reply.deviceId, token: reply.token, http };
    };
    const [a, b, c] = await Promise.all([0, 1, 2].map(async () => secureDevice(server!, await register())));
    const marker = `MARKER-${randomBytes(12).toString('hex')}`;
    const forwardedMarker = `FORWARDED-${randomBytes(12).toString('hex')}`;

    const direct = await a!.client.openDirect(b!.user.accountId);
    await b!.joined(direct.groupId);
    const group = await a!.client.createGroup('scan', [b!.user.accountId, c!.user.accountId]);
    // Strangers' adds are invitations (the policy's default): each accepts, and a's device adds theirs.
    await b!.client.acceptRequest(group.groupId);
    await c!.client.acceptRequest(group.groupId);
    await Promise.all([b!.joined(group.groupId), c!.joined(group.groupId)]);
    for (let i = 0; i < 5; i++) {
      await a!.client.sendText(direct.groupId, `${marker} direct ${i}`);
      await b!.client.sendText(group.groupId, `${marker} group ${i}`);
    }
    await c!.waitFor(group.groupId, 5);
    await a!.waitFor(group.groupId, 5);
    expect((await b!.waitFor(direct.groupId, 5)).every((m) => m.text.startsWith(marker))).toBe(true);
    // The one exception (issue 12): B reports the chat and, with consent, forwards only A's last
    // message, which carries a marker of its own. The other messages stay unreadable to the server.
    await a!.client.sendText(direct.groupId, `${forwardedMarker} the message B reports`);
    await b!.waitFor(direct.groupId, 6);
    const draft = await b!.client.draftReport(direct.groupId, { reason: 'abuse', last: 1 });
    expect(draft.body.messages.map((m) => m.text)).toEqual([`${forwardedMarker} the message B reports`]);
    await b!.client.sendReport(draft);
    // Media (issue 14): a file holding the marker, named after it, with a thumbnail holding it.
    const fileBytes = Buffer.concat([
      randomBytes(70_000),
      Buffer.from(`${marker} inside the file`),
      randomBytes(9),
    ]);
    const uploaded = await uploadEncryptedFile(
      { baseUrl: server.url, token: a!.user.token },
      group.groupId,
      bytesSource(fileBytes),
    );
    await a!.client.sendFile(group.groupId, {
      ...describeUpload(uploaded, `${marker}.bin`, 'application/octet-stream'),
      preview: { mime: 'image/webp', data: encodeBase64(Buffer.from(`${marker} thumbnail`)) },
    });
    const fileMessage = (await c!.waitFor(group.groupId, 6)).find((m) => m.file !== undefined);
    expect(fileMessage?.file?.name).toBe(`${marker}.bin`);
    const downloaded: Uint8Array[] = [];
    for await (const part of downloadDecryptedFile(
      { baseUrl: server.url, token: c!.user.token },
      fileMessage!.file!,
    ))
      downloaded.push(part);
    expect(Buffer.concat(downloaded).equals(fileBytes)).toBe(true);
    const atB = await b!.waitFor(direct.groupId, 6);
    // Receipts travel too (delivered by themselves, read when b reads): end-to-end encrypted as well.
    const read = new Promise<void>((resolve) =>
      a!.client.on('status', (s) => {
        if (s.groupId === direct.groupId && s.status === 'read') resolve();
      }),
    );
    await b!.client.markRead(direct.groupId, atB.at(-1)!.seq);
    await read;
    await Promise.all([a!, b!, c!].map((d) => d.client.stop()));

    // What the server wrote: stop it first so that everything is on disk.
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server!.child.once('exit', resolve));
    writeFileSync(join(dir, 'server.log'), server.output());
    if (databaseUrl)
      writeFileSync(join(dir, 'dump.sql'), execFileSync('pg_dump', ['--data-only', databaseUrl]));
    const scanned = filesUnder(dir).filter((path) => !path.endsWith('.lock'));
    // The media blob (ciphertext) is among what was scanned.
    expect(scanned.some((path) => path.endsWith(join('media', uploaded.blobId)))).toBe(true);
    expect(scanned.some((path) => path.endsWith(storage === 'sqlite' ? 'courier.db' : 'dump.sql'))).toBe(
      true,
    );
    expect(server.output().length).toBeGreaterThan(0);
    // The marker, and what a receipt's plaintext looks like.
    const found = scanned
      .flatMap((path) =>
        [marker, '"type":"receipt"', '"status":"read"', '"status":"delivered"'].map(
          (needle) => [path, needle, hits(readFileSync(path), needle)] as const,
        ),
      )
      .filter(([, , n]) => n > 0);
    expect(found).toEqual([]);
    // What the reporter forwarded is held, by their consent, in the database only (the reports
    // table): not in the log, the key files or anywhere else the server wrote.
    const forwardedIn = scanned.filter((path) => hits(readFileSync(path), forwardedMarker) > 0);
    expect(forwardedIn.length).toBeGreaterThan(0);
    for (const path of forwardedIn)
      expect(path, 'forwarded text outside the database').toMatch(
        storage === 'sqlite' ? /courier\.db(-wal)?$/ : /dump\.sql$/,
      );
    // The scan itself finds a marker where there is one (it would not pass by reading nothing).
    expect(hits(Buffer.from(`x ${marker} y`), marker)).toBe(1);
  });
});
