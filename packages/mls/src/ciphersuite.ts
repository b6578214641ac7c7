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
 * Ed25519 signing by Node's native crypto, synchronously, with the imported private key kept per key
 * array. rc.10 re-imports the key (a PKCS#8 parse, ~0.4 ms) and awaits a WebCrypto job for every
 * signature. The cache is keyed by the array object and remembers a copy of its bytes (an array changed in
 * place is imported afresh); entries go with their arrays (WeakMap). Checking signatures stays with the
 * library (WebCrypto): a join checks thousands of leaf signatures, concurrently on the thread pool, which
 * a synchronous check with a key import each would make slower. Outside Node the library's own signer is
 * used unchanged. Ed25519 is deterministic (RFC 8032): the signatures are the library's, byte for byte.
 */
export function nativeEd25519Signer(base: Signature, native: NodeCrypto | undefined): Signature {
  if (native === undefined) return base;
  const privateKeys = new WeakMap<Uint8Array, { bytes: Uint8Array; key: KeyObject }>();
  const privateKey = (signKey: Uint8Array): KeyObject => {
    const cached = privateKeys.get(signKey);
    if (cached !== undefined && sameBytes(cached.bytes, signKey)) return cached.key;
    const key = native.createPrivateKey({
      key: Buffer.from(signKey.length === 32 ? ed25519Pkcs8(signKey) : signKey),
      format: 'der',
      type: 'pkcs8',
    });
    privateKeys.set(signKey, { bytes: signKey.slice(), key });
    return key;
  };
  return {
    ...base,
    sign: async (signKey, message) => new Uint8Array(native.sign(null, message, privateKey(signKey))),
  };
}

/**
 * A suite loaded from ts-mls with the faster pieces above swapped in where they apply: the KDF always,
 * AES-GCM for message protection in AES suites, Ed25519 signing in Ed25519 suites (in Node).
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
 * `nobleAesGcm` and Ed25519 signing by `nativeEd25519Signer` (in Node). Cached per process.
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
