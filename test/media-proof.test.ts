/**
 * Issue 14's 300 MB proof, at a size the test suite affords: the very code of
 * `npm run bench -- media --proof` (bench/media-proof.ts) against an in-process server. The upload is
 * cut in the middle and resumes (less than one request crosses twice), another member's device
 * downloads it, and both SHA-256 digests agree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keystreamFile, mediaProof, sourceDigest } from '../bench/media-proof.ts';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';

const MiB = 1024 * 1024;

describe('media proof (bench/media-proof.ts) at a small size', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { media: { maxFileBytes: 64 * MiB } } });
  });
  afterAll(async () => server?.close());

  it('makes every byte of the synthetic file reachable at any offset, the same each time', async () => {
    const file = keystreamFile(1_000_003, new Uint8Array(32).fill(7));
    const whole = await file.read(0, file.size);
    expect(whole.length).toBe(1_000_003);
    for (const [at, length] of [
      [0, 1],
      [15, 2],
      [16, 33],
      [999_990, 13],
      [500_001, 70_000],
    ] as const)
      expect(
        Buffer.from(await file.read(at, length)).equals(Buffer.from(whole.subarray(at, at + length))),
      ).toBe(true);
    // Reads past the end stop at the end.
    expect((await file.read(1_000_000, 100)).length).toBe(3);
    expect(await sourceDigest(file)).toBe(
      await sourceDigest(keystreamFile(1_000_003, new Uint8Array(32).fill(7))),
    );
    expect(await sourceDigest(file)).not.toBe(
      await sourceDigest(keystreamFile(1_000_003, new Uint8Array(32).fill(8))),
    );
  });

  it('resumes an upload cut in the middle, counts the bytes sent twice, and the other member gets identical bytes', async () => {
    const [alice, bob] = await Promise.all([server.register(nextPhone()), server.register(nextPhone())]);
    const group = await alice.http.createGroup('proof', [bob.accountId]);
    const size = 20 * MiB + 4321;
    const outcome = await mediaProof({
      baseUrl: server.url,
      uploaderToken: alice.token,
      downloaderToken: bob.token,
      groupId: group.groupId,
      size,
    });
    expect(outcome.drops).toBe(1);
    expect(outcome.droppedAt).toBeGreaterThanOrEqual(outcome.cipherSize / 2);
    expect(outcome.droppedAt).toBeLessThan(outcome.cipherSize);
    // Resumed, not restarted: what crossed twice is less than one request (a restart resends half).
    expect(outcome.sentTwice).toBeGreaterThanOrEqual(0);
    expect(outcome.sentTwice).toBeLessThan(outcome.requestBytes);
    expect(outcome.receivedBytes).toBe(size);
    expect(outcome.receivedSha256).toBe(outcome.sentSha256);
    console.info(
      `proof at ${size} bytes: cut at ${outcome.droppedAt} of ${outcome.cipherSize}; ${outcome.sentTwice} bytes sent twice; sha256 ${outcome.sentSha256} both sides`,
    );
  });
});
