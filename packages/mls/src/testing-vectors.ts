/** Test helpers for the official MLS test vectors in shared/mls-test-vectors (mlswg/mls-implementations). */
import { readFileSync } from 'node:fs';
import { type CiphersuiteId, type CiphersuiteImpl, nobleCryptoProvider } from 'ts-mls';
import { nobleKdf, withFastPrimitives } from './ciphersuite.ts';
import { ciphersuiteValues, makeHashImpl } from './ts-mls-internal.ts';

/** repo/packages/mls/src → repo/../shared: CI clones shared/ beside the repository the same way. */
export const VECTORS_DIR = new URL('../../../../shared/mls-test-vectors/', import.meta.url);

export function loadVectors<T>(name: string): T[] {
  return JSON.parse(readFileSync(new URL(name, VECTORS_DIR), 'utf8')) as T[];
}

export function hex(value: string): Uint8Array {
  return Uint8Array.from(Buffer.from(value, 'hex'));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/**
 * Suites whose HPKE needs an optional peer dependency of ts-mls: 3 and 6 need
 * @hpke/chacha20poly1305, 4 and 6 need @hpke/dhkem-x448. Both are installed as dev dependencies, so
 * every suite's vectors run; Courier itself uses suite 1 only. Empty unless one is missing.
 */
export const HPKE_UNAVAILABLE: Record<number, string> = {};

const full = new Map<number, Promise<CiphersuiteImpl>>();

/** The noble provider's full implementation with Courier's faster primitives swapped in, as loadCiphersuite does. */
export function fullSuite(id: number): Promise<CiphersuiteImpl> {
  let suite = full.get(id);
  if (suite === undefined) {
    suite = nobleCryptoProvider.getCiphersuiteImpl(id).then(withFastPrimitives);
    full.set(id, suite);
  }
  return suite;
}

/**
 * Hash and KDF of any of the seven suites, built from the same noble pieces the provider uses: enough for
 * vectors that need no HPKE or signature (key schedule, secret tree, transcript hashes, derivations).
 */
export function hashAndKdf(id: number): CiphersuiteImpl {
  const suite = ciphersuiteValues[id as CiphersuiteId];
  const keyLength = suite.hpke.aead === 'AES128GCM' ? 16 : 32;
  // Only the AEAD's key and nonce sizes are read by the secret tree; HPKE and signatures are absent.
  const absent = new Proxy(
    {},
    {
      get: (_target, property) => {
        throw new Error(`suite ${id}: ${String(property)} is not available without HPKE`);
      },
    },
  );
  return {
    id: id as CiphersuiteId,
    hash: makeHashImpl(suite.hash),
    kdf: nobleKdf({ 'HKDF-SHA256': 32, 'HKDF-SHA384': 48, 'HKDF-SHA512': 64 }[suite.hpke.kdf]),
    hpke: { ...(absent as object), keyLength, nonceLength: 12 } as unknown as CiphersuiteImpl['hpke'],
    signature: absent as CiphersuiteImpl['signature'],
    rng: absent as CiphersuiteImpl['rng'],
  };
}
