/**
 * The faster primitives loadCiphersuite swaps into ts-mls's noble provider (ciphersuite.ts) compute what
 * the library's own pieces compute, and the signing-key cache gives what a fresh import gives, including
 * after a key array is changed in place. The RFC 9420 vectors (vectors-*.test.ts) and the OpenMLS interop
 * test run with the same pieces.
 */
import fc from 'fast-check';
import { type CiphersuiteImpl, nobleCryptoProvider } from 'ts-mls';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  cachedEd25519Signer,
  cachedEd25519Verifier,
  loadCiphersuite,
  nobleAesGcm,
  nobleKdf,
} from './ciphersuite.ts';

let library: CiphersuiteImpl;
let fast: CiphersuiteImpl;
beforeAll(async () => {
  library = await nobleCryptoProvider.getCiphersuiteImpl(1);
  fast = await loadCiphersuite();
});

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

describe('Courier ciphersuite pieces', () => {
  // The library's HKDF (@hpke/core) takes an empty salt (zeros) or one of the hash's size, as MLS passes.
  test('noble HKDF extracts and expands exactly as the library KDF does', async () => {
    const kdf = nobleKdf(32);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(bytes(0, 0), bytes(32, 32)),
        bytes(0, 64),
        bytes(0, 80),
        fc.integer({ min: 1, max: 255 }),
        async (salt, ikm, info, length) => {
          const prk = await kdf.extract(salt, ikm);
          expect(hex(prk)).toBe(hex(await library.kdf.extract(salt, ikm)));
          expect(hex(await kdf.expand(prk, info, length))).toBe(
            hex(await library.kdf.expand(prk, info, length)),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  test('noble AES-GCM seals and opens exactly as the library AEAD does, and refuses a changed byte', async () => {
    const aead = nobleAesGcm(library.hpke);
    await fc.assert(
      fc.asyncProperty(
        bytes(16, 16),
        bytes(12, 12),
        bytes(0, 40),
        bytes(0, 300),
        fc.nat(),
        async (key, nonce, aad, plaintext, at) => {
          const sealed = await aead.encryptAead(key, nonce, aad, plaintext);
          expect(hex(sealed)).toBe(hex(await library.hpke.encryptAead(key, nonce, aad, plaintext)));
          expect(hex(await library.hpke.decryptAead(key, nonce, aad, sealed))).toBe(hex(plaintext));
          const changed = sealed.slice();
          changed[at % changed.length]! ^= 1;
          await expect(aead.decryptAead(key, nonce, aad, changed)).rejects.toThrow();
        },
      ),
      { numRuns: 40 },
    );
  });

  test('Ed25519 signing with cached keys signs as the library does, also after a key changes in place', async () => {
    const signer = cachedEd25519Verifier(cachedEd25519Signer(library.signature));
    const [a, b] = [await library.signature.keygen(), await library.signature.keygen()];
    await fc.assert(
      fc.asyncProperty(bytes(0, 200), fc.boolean(), async (message, swap) => {
        const signKey = a.signKey.slice();
        const publicKey = a.publicKey.slice();
        const first = await signer.sign(signKey, message);
        // Ed25519 is deterministic: the cached-key signature is the library's
        expect(hex(first)).toBe(hex(await library.signature.sign(signKey, message)));
        for (let check = 0; check < 3; check++) {
          expect(await signer.verify(publicKey, message, first)).toBe(true);
        }
        if (swap) {
          // the same arrays now hold the other key pair: the caches must not answer for the old one
          signKey.set(b.signKey);
          publicKey.set(b.publicKey);
          const second = await signer.sign(signKey, message);
          expect(hex(second)).toBe(hex(await library.signature.sign(b.signKey, message)));
          expect(await signer.verify(publicKey, message, second)).toBe(true);
          expect(await signer.verify(publicKey, message, first)).toBe(false);
        } else {
          const forged = first.slice();
          forged[0]! ^= 1;
          expect(await signer.verify(publicKey, message, forged)).toBe(false);
        }
      }),
      { numRuns: 40 },
    );
  });

  test('Ed25519 checking with cached keys answers as the library does for other keys and bad keys', async () => {
    const signer = cachedEd25519Verifier(library.signature);
    const pairs = await Promise.all([0, 1, 2].map(() => library.signature.keygen()));
    const message = new TextEncoder().encode('cached keys');
    const signatures = await Promise.all(pairs.map((p) => library.signature.sign(p.signKey, message)));
    for (let round = 0; round < 2; round++) {
      for (const [i, pair] of pairs.entries()) {
        for (const [j, signature] of signatures.entries()) {
          // a fresh array each time: the cache goes by the key's bytes, not by the array
          expect(await signer.verify(pair.publicKey.slice(), message, signature)).toBe(i === j);
          expect(await library.signature.verify(pair.publicKey, message, signature)).toBe(i === j);
        }
      }
    }
    // a key the library cannot import fails the same way (a rejection), also when asked again
    const short = pairs[0]!.publicKey.subarray(0, 31);
    for (let again = 0; again < 2; again++) {
      await expect(library.signature.verify(short, message, signatures[0]!)).rejects.toThrow();
      await expect(signer.verify(short, message, signatures[0]!)).rejects.toThrow();
    }
  });

  test('the loaded suite signs and checks with the pieces swapped in', async () => {
    const { signKey, publicKey } = await fast.signature.keygen();
    const message = new TextEncoder().encode('courier');
    const signature = await fast.signature.sign(signKey, message);
    expect(await library.signature.verify(publicKey, message, signature)).toBe(true);
    expect(await fast.signature.verify(publicKey, message, signature)).toBe(true);
    expect(await fast.signature.verify(publicKey, message, signature)).toBe(true);
  });
});
