import {
  CourierError,
  MEDIA_CHUNK_CIPHERTEXT_BYTES,
  MEDIA_CHUNK_PLAINTEXT_BYTES,
  mediaCiphertextSize,
  mediaPlaintextSize,
} from '@courier/protocol';
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkCipher, generateFileKey } from './chunk-cipher.ts';
import { ChunkDecryptor } from './chunk-decryptor.ts';
import { chunkRangeFor } from './chunk-range.ts';
import { EncryptingSource } from './encrypting-source.ts';
import { bytesSource } from './plaintext-source.ts';

const P = MEDIA_CHUNK_PLAINTEXT_BYTES;
const random = (n: number) => new Uint8Array(randomBytes(n));
/** Sizes around chunk boundaries, where off-by-one mistakes live. */
const sizes = fc.oneof(
  fc.integer({ min: 0, max: 3 * P + 20 }),
  fc.constantFrom(0, 1, P - 1, P, P + 1, 2 * P, 2 * P + 1),
);

async function encrypt(plain: Uint8Array, key = generateFileKey()) {
  const cipher = await ChunkCipher.create(key, plain.length);
  const source = new EncryptingSource(bytesSource(plain), cipher);
  const { value } = await source.slice(0, source.size);
  return { key, cipher, ciphertext: new Uint8Array(value), source };
}

/** Decrypts a whole ciphertext the way a download does, fed in pieces of `step` bytes. */
async function decrypt(cipher: ChunkCipher, ciphertext: Uint8Array, step = 7919): Promise<Uint8Array> {
  const d = new ChunkDecryptor(cipher, 0, cipher.chunkCount);
  const out: Uint8Array[] = [];
  for (let i = 0; i < ciphertext.length; i += step)
    out.push(...(await d.push(ciphertext.subarray(i, i + step))));
  d.finish();
  return Buffer.concat(out);
}

const integrity = (error: unknown) =>
  error instanceof CourierError && error.code === 'MEDIA_INTEGRITY_FAILED';

describe('media chunk format', () => {
  it('round-trips any plaintext, fed in pieces of any size', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, fc.integer({ min: 1, max: 100_000 }), async (size, step) => {
        const plain = random(size);
        const { cipher, ciphertext } = await encrypt(plain);
        expect(ciphertext.length).toBe(mediaCiphertextSize(size));
        expect(mediaPlaintextSize(ciphertext.length)).toBe(size);
        expect(Buffer.from(await decrypt(cipher, ciphertext, step)).equals(Buffer.from(plain))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it("Node's crypto and WebCrypto seal the same bytes and open each other's (CLI and browser agree)", async () => {
    await fc.assert(
      fc.asyncProperty(sizes, async (size) => {
        const plain = random(size);
        const key = generateFileKey();
        const sealed: Uint8Array[] = [];
        const ciphers = [];
        for (const engine of ['node', 'webcrypto'] as const) {
          const cipher = await ChunkCipher.create(key, size, engine);
          expect(cipher.engine).toBe(engine);
          const source = new EncryptingSource(bytesSource(plain), cipher);
          sealed.push(new Uint8Array((await source.slice(0, source.size)).value));
          ciphers.push(cipher);
        }
        expect(Buffer.from(sealed[0]!).equals(Buffer.from(sealed[1]!))).toBe(true);
        expect(Buffer.from(await decrypt(ciphers[0]!, sealed[1]!)).equals(Buffer.from(plain))).toBe(true);
        expect(Buffer.from(await decrypt(ciphers[1]!, sealed[0]!)).equals(Buffer.from(plain))).toBe(true);
        if (size > 0) {
          const damaged = new Uint8Array(sealed[0]!);
          damaged[damaged.length - 1]! ^= 1;
          for (const cipher of ciphers) await expect(decrypt(cipher, damaged)).rejects.toSatisfy(integrity);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('detects any flipped bit, with a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, fc.nat(), fc.integer({ min: 0, max: 7 }), async (size, at, bit) => {
        const { cipher, ciphertext } = await encrypt(random(size));
        ciphertext[at % ciphertext.length]! ^= 1 << bit;
        await expect(decrypt(cipher, ciphertext)).rejects.toSatisfy(integrity);
      }),
      { numRuns: 40 },
    );
  });

  it('detects truncation at any point, and anything appended', async () => {
    await fc.assert(
      fc.asyncProperty(
        sizes,
        fc.nat(),
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        async (size, cut, extra) => {
          const { cipher, ciphertext } = await encrypt(random(size));
          const short = ciphertext.subarray(0, cut % ciphertext.length);
          await expect(decrypt(cipher, short)).rejects.toSatisfy(integrity);
          await expect(decrypt(cipher, Buffer.concat([ciphertext, extra]))).rejects.toSatisfy(integrity);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('detects chunks swapped, dropped at the end, or a whole file cut at a chunk boundary', async () => {
    const plain = random(3 * P + 5);
    const { key, cipher, ciphertext } = await encrypt(plain);
    const C = MEDIA_CHUNK_CIPHERTEXT_BYTES;
    const swapped = Buffer.concat([
      ciphertext.subarray(C, 2 * C),
      ciphertext.subarray(0, C),
      ciphertext.subarray(2 * C),
    ]);
    await expect(decrypt(cipher, swapped)).rejects.toSatisfy(integrity);
    // The first three chunks of the file, presented as a whole file of 3 * P bytes: the third chunk
    // was not sealed as final, so the cut is detected although every length fits.
    const cutCipher = await ChunkCipher.create(key, 3 * P);
    await expect(decrypt(cutCipher, ciphertext.subarray(0, 3 * C))).rejects.toSatisfy(integrity);
    // A chunk of another file (another key) in its place.
    const other = await encrypt(random(plain.length));
    const mixed = Buffer.concat([
      ciphertext.subarray(0, C),
      other.ciphertext.subarray(C, 2 * C),
      ciphertext.subarray(2 * C),
    ]);
    await expect(decrypt(cipher, mixed)).rejects.toSatisfy(integrity);
  });

  it('produces the same ciphertext for any slice as for the whole (resumed uploads resend identical bytes)', async () => {
    const plain = random(2 * P + 999);
    const { key, ciphertext } = await encrypt(plain);
    await fc.assert(
      fc.asyncProperty(fc.nat(ciphertext.length), fc.nat(ciphertext.length), async (x, y) => {
        const [start, end] = x <= y ? [x, y] : [y, x];
        const again = new EncryptingSource(bytesSource(plain), await ChunkCipher.create(key, plain.length));
        const { value } = await again.slice(start, end);
        expect(Buffer.from(value).equals(Buffer.from(ciphertext.subarray(start, end)))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('hands out correct slices while it reuses its buffers, in any order of requests (retries, resumes)', async () => {
    const plain = random(5 * P + 77);
    const { key, ciphertext } = await encrypt(plain);
    // A source that reads into the caller's buffer, as a file source does.
    const into = {
      ...bytesSource(plain),
      readInto: async (offset: number, target: Uint8Array) =>
        target.set(plain.subarray(offset, offset + target.length)),
    };
    const step = fc.record({
      start: fc.nat(ciphertext.length),
      length: fc.integer({ min: 0, max: 3 * MEDIA_CHUNK_CIPHERTEXT_BYTES }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(step, { minLength: 1, maxLength: 12 }),
        async (reading, steps) => {
          const source = new EncryptingSource(
            reading ? into : bytesSource(plain),
            await ChunkCipher.create(key, plain.length),
          );
          let next = 0;
          for (const { start, length } of steps) {
            // Mostly sequential (the next slice is the one encrypted ahead), sometimes elsewhere.
            const from = length % 3 === 0 ? start : next;
            const { value } = await source.slice(from, from + length);
            // On the wire while the slice after it is encrypted ahead: its bytes must hold.
            await new Promise((resolve) => setTimeout(resolve, 0));
            const expected = ciphertext.subarray(from, Math.min(ciphertext.length, from + length));
            expect(Buffer.from(value).equals(Buffer.from(expected))).toBe(true);
            next = Math.min(ciphertext.length, from + length);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("digests the plaintext (SHA-256 over its chunks' SHA-256) whatever order the slices were asked in", async () => {
    const plain = random(3 * P + 1);
    const { source } = await encrypt(plain);
    const inner = [0, 1, 2, 3].map((i) =>
      createHash('sha256')
        .update(plain.subarray(i * P, (i + 1) * P))
        .digest(),
    );
    const expected = createHash('sha256').update(Buffer.concat(inner)).digest();
    expect(Buffer.from(await source.digest()).equals(Buffer.from(expected))).toBe(true);
    const key = generateFileKey();
    const skipping = new EncryptingSource(bytesSource(plain), await ChunkCipher.create(key, plain.length));
    await skipping.slice(2 * MEDIA_CHUNK_CIPHERTEXT_BYTES, skipping.size);
    expect(Buffer.from(await skipping.digest()).equals(Buffer.from(expected))).toBe(true);
  });

  it('maps any plaintext range to the chunks that hold it (random access)', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, fc.nat(), fc.nat(), async (size, x, y) => {
        const plain = random(size);
        const { cipher, ciphertext } = await encrypt(plain);
        const a = size === 0 ? 0 : x % (size + 1);
        const b = size === 0 ? 0 : y % (size + 1);
        const [start, end] = a <= b ? [a, b] : [b, a];
        const range = chunkRangeFor(size, start, end);
        const d = new ChunkDecryptor(cipher, range.firstChunk, range.endChunk);
        const chunks = await d.push(ciphertext.subarray(range.cipherStart, range.cipherEnd));
        d.finish();
        const got = Buffer.concat(chunks).subarray(range.skip, range.skip + range.length);
        expect(got.equals(Buffer.from(plain.subarray(start, end)))).toBe(true);
      }),
      { numRuns: 60 },
    );
    expect(() => chunkRangeFor(10, 5, 11)).toThrow(CourierError);
    expect(() => chunkRangeFor(10, 6, 5)).toThrow(CourierError);
  });

  it('knows which ciphertext lengths a file can have', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * MEDIA_CHUNK_CIPHERTEXT_BYTES }), (length) => {
        const plain = mediaPlaintextSize(length);
        if (plain === undefined) {
          const rest = length % MEDIA_CHUNK_CIPHERTEXT_BYTES;
          expect(length < 16 || (rest > 0 && rest < 16)).toBe(true);
        } else expect(mediaCiphertextSize(plain)).toBe(length);
      }),
    );
  });
});
