import { sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openReadSync, parseReadSync, receiptsOffText, sealReadSync, signedPart } from './read-sync.ts';

/** A stand-in signer for the envelope's shape (64 bytes); real Ed25519 signing is in the end-to-end test. */
const sign = async (bytes: Uint8Array) => sha512(bytes);

const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
const sync = fc.record({
  groupId: fc.string({ minLength: 1, maxLength: 200 }),
  epoch: fc.nat(),
  upToSeq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
});
const device = fc.string({ minLength: 1, maxLength: 40 });

describe('read positions for the person’s own devices (read-sync)', () => {
  it('parsing any bytes never throws, and what parses is a well-formed envelope', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 600 }),
          fc.json().map((j) => new TextEncoder().encode(j)),
          fc
            .record({
              v: fc.oneof(fc.constant(1), fc.anything()),
              type: fc.oneof(fc.constant('read_sync'), fc.string()),
              groupId: fc.anything(),
              epoch: fc.anything(),
              nonce: fc.oneof(fc.base64String(), fc.anything()),
              sealed: fc.oneof(fc.base64String(), fc.anything()),
            })
            .map((o) => new TextEncoder().encode(JSON.stringify(o) ?? '')),
        ),
        (bytes) => {
          const parsed = parseReadSync(bytes);
          if (parsed === undefined) return;
          expect(parsed.nonce.byteLength).toBe(12);
          expect(parsed.sealed.byteLength).toBeGreaterThanOrEqual(16);
          expect(Number.isSafeInteger(parsed.epoch) && parsed.epoch >= 0).toBe(true);
        },
      ),
    );
  });

  it('a sealed position parses and opens under the same key and sender, and under nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(key, key, sync, device, device, async (k, other, s, sender, stranger) => {
        const envelope = parseReadSync(await sealReadSync(k, s, sender, sign));
        expect(envelope).toMatchObject({ groupId: s.groupId, epoch: s.epoch });
        // The signature covers the envelope and names its sender: another sender's part differs.
        expect(envelope!.sig).toEqual(sha512(signedPart(envelope!, sender)));
        if (stranger !== sender)
          expect(signedPart(envelope!, stranger)).not.toEqual(signedPart(envelope!, sender));
        expect(await openReadSync(k, envelope!, sender)).toBe(s.upToSeq);
        if (other.some((b, i) => b !== k[i]))
          expect(await openReadSync(other, envelope!, sender)).toBeUndefined();
        if (stranger !== sender) expect(await openReadSync(k, envelope!, stranger)).toBeUndefined();
        // Named for another epoch or chat than it was sealed for: it does not open.
        expect(await openReadSync(k, { ...envelope!, epoch: s.epoch + 1 }, sender)).toBeUndefined();
        expect(await openReadSync(k, { ...envelope!, groupId: `${s.groupId}x` }, sender)).toBeUndefined();
      }),
      { numRuns: 50 },
    );
  });

  it('any changed byte of the sealed part makes it not open', async () => {
    await fc.assert(
      fc.asyncProperty(
        key,
        sync,
        device,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (k, s, d, at, x) => {
          const envelope = parseReadSync(await sealReadSync(k, s, d, sign))!;
          const sealed = envelope.sealed.slice();
          sealed[at % sealed.length]! ^= x;
          expect(await openReadSync(k, { ...envelope, sealed }, d)).toBeUndefined();
        },
      ),
      { numRuns: 50 },
    );
  });

  it('an envelope without a 64-byte signature does not parse', async () => {
    const sealed = JSON.parse(
      new TextDecoder().decode(
        await sealReadSync(new Uint8Array(32), { groupId: 'g', epoch: 1, upToSeq: 2 }, 'd', sign),
      ),
    ) as Record<string, unknown>;
    const bytes = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    expect(parseReadSync(bytes(sealed))).toBeDefined();
    expect(parseReadSync(bytes({ ...sealed, sig: undefined }))).toBeUndefined();
    expect(parseReadSync(bytes({ ...sealed, sig: 'AAAA' }))).toBeUndefined();
  });

  it('says plainly why there are no ticks', () => {
    expect(receiptsOffText(100)).toBe('Receipts are off in groups of more than 100 devices');
  });
});
