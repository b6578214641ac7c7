/**
 * Issue 14, the scaled shape: two server nodes on one PostgreSQL database and one S3 bucket (s3rver,
 * its own process, spoken to over HTTP). One node takes the upload, the other serves the blob.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesSource, describeUpload, downloadDecryptedFile, uploadEncryptedFile } from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { createTestDatabase } from './support/postgres.ts';
import { type S3rverProcess, startS3rver } from './support/s3rver-process.ts';

describe('media on S3 with two server nodes', () => {
  let s3: S3rverProcess;
  let db: { url: string; drop: () => Promise<void> };
  let first: TestServer;
  let second: TestServer;
  // Every node of a deployment holds the same keys: both nodes use one data folder for them.
  const dataDir = mkdtempSync(join(tmpdir(), 'courier-media-s3-'));
  beforeAll(async () => {
    s3 = await startS3rver('media-bucket');
    db = await createTestDatabase();
    const media = {
      store: {
        kind: 's3' as const,
        bucket: s3.bucket,
        endpoint: s3.endpoint,
        accessKeyIdEnv: 'COURIER_TEST_S3_KEY_ID',
        secretAccessKeyEnv: 'COURIER_TEST_S3_SECRET',
        pieceBytes: 256 * 1024,
      },
    };
    first = await startTestServer({
      storage: 'postgres',
      databaseUrl: db.url,
      config: { dataDir, media },
      env: s3.env,
    });
    second = await startTestServer({
      storage: 'postgres',
      databaseUrl: db.url,
      config: { dataDir, media },
      env: s3.env,
    });
  }, 60_000);
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await db?.drop();
    await s3?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves from one node what was uploaded through the other, to members only', async () => {
    const [alice, bob, eve] = await Promise.all([0, 1, 2].map(() => first.register(nextPhone())));
    const group = await alice!.http.createGroup('scaled', [bob!.accountId]);
    const file = randomBytes(1_500_000);
    const uploaded = await uploadEncryptedFile(
      { baseUrl: first.url, token: alice!.token },
      group.groupId,
      bytesSource(file),
      {
        requestBytes: 600_000,
      },
    );
    const d = describeUpload(uploaded, 'scaled.bin', 'application/octet-stream');
    const parts: Uint8Array[] = [];
    for await (const p of downloadDecryptedFile({ baseUrl: second.url, token: bob!.token }, d)) parts.push(p);
    expect(Buffer.concat(parts).equals(file)).toBe(true);
    const ranged: Uint8Array[] = [];
    for await (const p of downloadDecryptedFile({ baseUrl: second.url, token: bob!.token }, d, {
      range: { start: 700_000, end: 900_000 },
    }))
      ranged.push(p);
    expect(Buffer.concat(ranged).equals(file.subarray(700_000, 900_000))).toBe(true);
    const denied = await fetch(new URL(`/v1/media/${d.blobId}`, second.url), {
      headers: { authorization: `Bearer ${eve!.token}` },
    });
    expect(denied.status).toBe(404);
    expect(await second.app.media.blobs.list()).toContain(d.blobId);
  });
});
