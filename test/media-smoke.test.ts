import { randomBytes } from 'node:crypto';
import { bytesSource, describeUpload, downloadDecryptedFile, uploadEncryptedFile } from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.close());

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of stream) parts.push(p);
  return Buffer.concat(parts);
}

describe('media smoke', () => {
  it('uploads and downloads', async () => {
    const a = await server.register(nextPhone());
    const b = await server.register(nextPhone());
    const group = await a.http.createGroup('media', [b.accountId]);
    const file = randomBytes(300_000);
    const up = await uploadEncryptedFile({ baseUrl: server.url, token: a.token }, group.groupId, bytesSource(file));
    const d = describeUpload(up, 'x.bin', 'application/octet-stream');
    const got = await readAll(downloadDecryptedFile({ baseUrl: server.url, token: b.token }, d));
    expect(got.equals(file)).toBe(true);
  });
});
