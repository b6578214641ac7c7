import { gcm } from '@noble/ciphers/aes.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import {
  type CiphersuiteImpl,
  type CiphersuiteName,
  CryptoError,
  ciphersuites,
  getCiphersuiteImpl,
  type Hpke,
  type Kdf,
  nobleCryptoProvider,
  type Signature,
} from 'ts-mls';
import { MlsError } from './mls-error.ts';

/** Ciphersuite 1: X25519, AES-128-GCM, SHA-256, Ed25519 (RFC 9420 §17.1). */
export const DEFAULT_CIPHERSUITE: CiphersuiteName = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519';

const suites = new Map<CiphersuiteName, Promise<CiphersuiteImpl>>();
const loadedById = new Map<number, CiphersuiteImpl>();

/** @internal A ciphersuite this process has loaded, by its RFC 9420 id (for synchronous state codecs). */
export function loadedCiphersuite(id: number): CiphersuiteImpl | undefined {
  return loadedById.get(id);
}

/**
 * HKDF computed by noble, synchronously. rc.10's "noble" provider still takes its KDF from @hpke/core,
 * which awaits two WebCrypto jobs (key import, HMAC) per extract or expand: deriving a message key in a
 * 5,000-member group walks 13 levels of the secret tree and waited ~4 ms for it. Same RFC 5869 function,
 * same bytes (the RFC 9420 crypto vectors in vectors-crypto.test.ts check it).
 */
export function nobleKdf(size: number): Kdf {
  const hash = size === 32 ? sha256 : size === 48 ? sha384 : size === 64 ? sha512 : undefined;
  if (hash === undefined)
    throw new MlsError('MLS_UNSUPPORTED_CIPHERSUITE', `no HKDF with a ${size}-byte hash`);
  return {
    size,
    extract: async (salt, ikm) => extract(hash, ikm, salt),
    expand: async (prk, info, length) => expand(hash, prk, info, length),
  };
}

/**
 * The AEAD of message protection (RFC 9420 §6.3) computed by noble's AES-GCM, synchronously; rc.10's
 * provider imports a WebCrypto key and awaits a job for every message. HPKE keeps its own AEAD.
 */
export function nobleAesGcm(hpke: Hpke): Hpke {
  return {
    ...hpke,
    encryptAead: async (key, nonce, aad, plaintext) =>
      gcm(key, nonce, aad ?? new Uint8Array()).encrypt(plaintext),
    decryptAead: async (key, nonce, aad, ciphertext) => {
      try {
        return gcm(key, nonce, aad ?? new Uint8Array()).decrypt(ciphertext);
      } catch (cause) {
        throw new CryptoError(`${cause}`);
      }
    },
  };
}

type NodeCrypto = typeof import('node:crypto');
type KeyObject = import('node:crypto').KeyObject;

async function loadNodeCrypto(): Promise<NodeCrypto | undefined> {
  if (typeof globalThis.process?.versions?.node !== 'string') return undefined;
  try {
    return await import('node:crypto');
  } catch {
    return undefined;
  }
}

/**
 * Ed25519 signatures computed by Node's native crypto, synchronously, with each imported key kept per key
 * array (a public key from its second check on; see `verify`). rc.10 re-imports the key (a PKCS#8 parse, ~0.4 ms) for every signature and awaits a WebCrypto
 * job for every signature and check. The caches are keyed by the array object and remember a copy of
 * its bytes (an array changed in place is imported afresh); entries go with their arrays (WeakMap).
 * Outside Node the library's own signer is used unchanged. Same algorithm (RFC 8032), same bytes: the
 * RFC 9420 vectors and the OpenMLS interop test check it.
 */
export function nativeEd25519Signer(base: Signature, native: NodeCrypto | undefined): Signature {
  if (native === undefined) return base;
  const privateKeys = new WeakMap<Uint8Array, { bytes: Uint8Array; key: KeyObject }>();
  const publicKeys = new WeakMap<Uint8Array, { bytes: Uint8Array; key: KeyObject }>();
  const seenPublicKeys = new WeakSet<Uint8Array>();
  const cachedKey = (
    cache: WeakMap<Uint8Array, { bytes: Uint8Array; key: KeyObject }>,
    bytes: Uint8Array,
    make: () => KeyObject,
  ): KeyObject => {
    const cached = cache.get(bytes);
    if (cached !== undefined && sameBytes(cached.bytes, bytes)) return cached.key;
    const key = make();
    cache.set(bytes, { bytes: bytes.slice(), key });
    return key;
  };
  return {
    ...base,
    sign: async (signKey, message) => {
      const key = cachedKey(privateKeys, signKey, () =>
        native.createPrivateKey({
          key: Buffer.from(signKey.length === 32 ? ed25519Pkcs8(signKey) : signKey),
          format: 'der',
          type: 'pkcs8',
        }),
      );
      return new Uint8Array(native.sign(null, message, key));
    },
    verify: async (publicKey, message, signature) => {
      // A key seen for the first time is checked by the library's WebCrypto signer: a join checks thousands
      // of leaf signatures once each, and those jobs run concurrently on the thread pool. A key checked
      // again (a sender's key, message after message) is imported once and checked natively.
      if (!seenPublicKeys.has(publicKey)) {
        seenPublicKeys.add(publicKey);
        return base.verify(publicKey, message, signature);
      }
      if (publicKey.length !== 32 || signature.length !== 64) return false;
      let key: KeyObject;
      try {
        key = cachedKey(publicKeys, publicKey, () =>
          native.createPublicKey({ key: Buffer.from(ed25519Spki(publicKey)), format: 'der', type: 'spki' }),
        );
      } catch {
        return false;
      }
      return native.verify(null, message, key, signature);
    },
  };
}

/** RFC 8410 SubjectPublicKeyInfo of a raw 32-byte Ed25519 public key. */
function ed25519Spki(raw: Uint8Array): Uint8Array {
  const prefix = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
  const out = new Uint8Array(prefix.length + 32);
  out.set(prefix);
  out.set(raw, prefix.length);
  return out;
}

/**
 * A suite loaded from ts-mls with the faster pieces above swapped in where they apply: the KDF always,
 * AES-GCM for message protection in AES suites, Ed25519 signatures in Ed25519 suites (in Node).
 */
export async function withFastPrimitives(loaded: CiphersuiteImpl): Promise<CiphersuiteImpl> {
  const name = Object.entries(ciphersuites).find(([, id]) => id === loaded.id)?.[0] ?? '';
  return {
    ...loaded,
    kdf: nobleKdf(loaded.kdf.size),
    hpke:
      name.includes('_AES128GCM_') || name.includes('_AES256GCM_') ? nobleAesGcm(loaded.hpke) : loaded.hpke,
    signature: name.endsWith('_Ed25519')
      ? nativeEd25519Signer(loaded.signature, await loadNodeCrypto())
      : loaded.signature,
  };
}

/** RFC 8410 PKCS#8 wrapping of a raw 32-byte Ed25519 private key. */
function ed25519Pkcs8(raw: Uint8Array): Uint8Array {
  const prefix = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
  ];
  const out = new Uint8Array(prefix.length + 32);
  out.set(prefix);
  out.set(raw, prefix.length);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Loads a ciphersuite with ts-mls's synchronous noble provider (pure JS: much faster than awaiting
 * WebCrypto for every hash), its KDF replaced by `nobleKdf`, the message AEAD (AES-GCM suites) by
 * `nobleAesGcm` and Ed25519 signatures by `nativeEd25519Signer` (in Node). Cached per process.
 */
export function loadCiphersuite(name: CiphersuiteName = DEFAULT_CIPHERSUITE): Promise<CiphersuiteImpl> {
  let suite = suites.get(name);
  if (suite === undefined) {
    suite = getCiphersuiteImpl(name, nobleCryptoProvider)
      .then(withFastPrimitives)
      .then(
        (impl) => {
          loadedById.set(impl.id, impl);
          return impl;
        },
        (cause: unknown) => {
          suites.delete(name);
          throw new MlsError('MLS_UNSUPPORTED_CIPHERSUITE', `ciphersuite ${name} is not available`, {
            cause,
          });
        },
      );
    suites.set(name, suite);
  }
  return suite;
}
