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

type SigningKey = Awaited<ReturnType<SubtleCrypto['importKey']>>;

/**
 * Ed25519 signing with the imported key kept per private-key array. rc.10 re-imports the key (a PKCS#8
 * parse, ~0.4 ms) for every signature. The cache is keyed by the array object and remembers a copy of its
 * bytes (an array changed in place is imported afresh); entries go with their arrays (WeakMap). In Node the
 * signature is Node's synchronous one (`nativeEd25519Signer`); in browsers an awaited WebCrypto job as in
 * rc.10. (Node's synchronous signing, first tried for speed, exposed a race in the SDK: two reconciles of
 * one chat at once burned key packages; SecureClient now runs commit-making work one at a time per chat,
 * proven by test/mls-reconcile-race.test.ts.) Without WebCrypto the library's own signer is used unchanged.
 * Ed25519 is deterministic (RFC 8032): the signatures are the library's.
 */
export function cachedEd25519Signer(base: Signature): Signature {
  const native = nodeCrypto();
  if (native !== undefined) return nativeEd25519Signer(base, native);
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) return base;
  const keys = new WeakMap<Uint8Array, { bytes: Uint8Array; key: Promise<SigningKey> }>();
  const signingKey = (signKey: Uint8Array): Promise<SigningKey> => {
    const cached = keys.get(signKey);
    if (cached !== undefined && sameBytes(cached.bytes, signKey)) return cached.key;
    const pkcs8 = signKey.length === 32 ? ed25519Pkcs8(signKey) : new Uint8Array(signKey);
    const key = subtle.importKey('pkcs8', pkcs8, 'Ed25519', false, ['sign']);
    keys.set(signKey, { bytes: signKey.slice(), key });
    key.catch(() => keys.delete(signKey));
    return key;
  };
  return {
    ...base,
    sign: async (signKey, message) =>
      new Uint8Array(await subtle.sign('Ed25519', await signingKey(signKey), new Uint8Array(message))),
  };
}

/**
 * The Node branch of `cachedEd25519Signer`: Node's synchronous `crypto.sign` with the private KeyObject kept
 * per key array (checked against a copy of its bytes, as above). No WebCrypto job per message: its
 * bookkeeping and thread-pool round trip cost more than the signature. The SDK's commit-making work is
 * serialised per chat (the race a sign without a thread-pool turn once exposed is fixed there and pinned by
 * test/mls-reconcile-race.test.ts). Same OpenSSL signature function as Node's WebCrypto: the same bytes.
 */
function nativeEd25519Signer(base: Signature, native: typeof import('node:crypto')): Signature {
  const keys = new WeakMap<Uint8Array, { bytes: Uint8Array; key: import('node:crypto').KeyObject }>();
  const signingKey = (signKey: Uint8Array) => {
    const cached = keys.get(signKey);
    if (cached !== undefined && sameBytes(cached.bytes, signKey)) return cached.key;
    const pkcs8 = signKey.length === 32 ? ed25519Pkcs8(signKey) : new Uint8Array(signKey);
    let key: import('node:crypto').KeyObject;
    try {
      key = native.createPrivateKey({ key: Buffer.from(pkcs8.buffer), format: 'der', type: 'pkcs8' });
    } catch (cause) {
      throw new CryptoError(`not an Ed25519 private key: ${cause}`);
    }
    keys.set(signKey, { bytes: signKey.slice(), key });
    return key;
  };
  return {
    ...base,
    sign: async (signKey, message) => {
      const signature = native.sign(null, message, signingKey(signKey));
      return new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength);
    },
  };
}

/**
 * Node's `crypto` module when this runs in Node (`process.getBuiltinModule`, Node ≥ 20.16), else undefined
 * (browsers). Reached at run time, not imported, so that bundles for the web app need no stand-in for it.
 */
function nodeCrypto(): typeof import('node:crypto') | undefined {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    ?.getBuiltinModule;
  if (typeof get !== 'function') return undefined;
  try {
    return get('node:crypto') as typeof import('node:crypto') | undefined;
  } catch {
    return undefined;
  }
}

/**
 * Ed25519 checks with the verification keys kept, for one client context (a device: its groups, messages
 * and commits). In Node the check is Node's synchronous `crypto.verify` with a cached KeyObject: no
 * WebCrypto job per check (each awaited one cost the main thread ~100 µs of WebCrypto bookkeeping and a
 * thread-pool round trip, which under load took milliseconds; a 5,000-member join checks 5,001 leaves).
 * Node's WebCrypto Ed25519 and `crypto.verify` are the same OpenSSL function, so the set of accepted
 * signatures is unchanged: OpenSSL checks strictly as RFC 8032 says (canonical S below the group order);
 * @noble/curves, which browsers without WebCrypto Ed25519 would use through the library, accepts the ZIP-215
 * superset. Signatures made by an honest RFC 8032 signer (ts-mls, OpenMLS/core-crypto, this package) pass
 * both; only a signature crafted to sit in the gap could be accepted by one client and refused by another.
 * Elsewhere (browsers) the check is WebCrypto's with the imported key kept; without WebCrypto the given
 * checker is used unchanged. A key that cannot be imported (wrong length, not a point) throws, as the
 * library's check does.
 */
export function cachedEd25519Verifier(base: Signature): Signature {
  const native = nodeCrypto();
  if (native !== undefined) return nativeEd25519Verifier(base, native);
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) return base;
  // Verification keys by their bytes (a latin1 string of them; content-keyed, so an array changed in place
  // finds its new key), the most recently used VERIFY_KEYS kept. A member's key is checked again with each of
  // its messages and commits; rc.10 imported it afresh every time (a WebCrypto import costs about what the
  // check itself does). A join still imports each leaf's key once: they are all new to the device.
  const verifyKeys = new Map<string, Promise<SigningKey>>();
  const verifyingKey = (publicKey: Uint8Array): Promise<SigningKey> => {
    const id = String.fromCharCode(...publicKey);
    let key = verifyKeys.get(id);
    if (key !== undefined) {
      verifyKeys.delete(id);
      verifyKeys.set(id, key);
      return key;
    }
    key = subtle.importKey('raw', new Uint8Array(publicKey), 'Ed25519', false, ['verify']);
    verifyKeys.set(id, key);
    key.catch(() => verifyKeys.delete(id));
    if (verifyKeys.size > VERIFY_KEYS) verifyKeys.delete(verifyKeys.keys().next().value!);
    return key;
  };
  return {
    ...base,
    verify: async (publicKey, message, signature) =>
      subtle.verify(
        'Ed25519',
        await verifyingKey(publicKey),
        new Uint8Array(signature),
        new Uint8Array(message),
      ),
  };
}

/** The Node branch of `cachedEd25519Verifier`: KeyObjects by key bytes, the most recent VERIFY_KEYS kept. */
function nativeEd25519Verifier(base: Signature, native: typeof import('node:crypto')): Signature {
  const verifyKeys = new Map<string, import('node:crypto').KeyObject>();
  const verifyingKey = (publicKey: Uint8Array) => {
    const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('latin1');
    let key = verifyKeys.get(id);
    if (key !== undefined) {
      verifyKeys.delete(id);
      verifyKeys.set(id, key);
      return key;
    }
    if (publicKey.length !== 32) throw new CryptoError('an Ed25519 public key has 32 bytes');
    try {
      // A JWK, not SPKI DER: Node 20 imports it about 4× faster (a 5,000-member join imports 5,001 keys).
      const x = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString(
        'base64url',
      );
      key = native.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    } catch (cause) {
      throw new CryptoError(`not an Ed25519 public key: ${cause}`);
    }
    verifyKeys.set(id, key);
    if (verifyKeys.size > VERIFY_KEYS) verifyKeys.delete(verifyKeys.keys().next().value!);
    return key;
  };
  return {
    ...base,
    verify: async (publicKey, message, signature) =>
      native.verify(null, message, verifyingKey(publicKey), signature),
  };
}

/** Imported Ed25519 verification keys kept per context (about a large group's members; ~1 KB each). */
const VERIFY_KEYS = 8192;

/**
 * A suite loaded from ts-mls with the faster pieces above swapped in where they apply: the KDF always,
 * AES-GCM for message protection in AES suites, Ed25519 signing in Ed25519 suites.
 */
export function withFastPrimitives(loaded: CiphersuiteImpl): CiphersuiteImpl {
  const name = Object.entries(ciphersuites).find(([, id]) => id === loaded.id)?.[0] ?? '';
  return {
    ...loaded,
    kdf: nobleKdf(loaded.kdf.size),
    hpke:
      name.includes('_AES128GCM_') || name.includes('_AES256GCM_') ? nobleAesGcm(loaded.hpke) : loaded.hpke,
    signature: name.endsWith('_Ed25519') ? cachedEd25519Signer(loaded.signature) : loaded.signature,
  };
}

/** RFC 8410 PKCS#8 wrapping of a raw 32-byte Ed25519 private key. */
function ed25519Pkcs8(raw: Uint8Array): Uint8Array<ArrayBuffer> {
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
 * `nobleAesGcm` and Ed25519 signing by `cachedEd25519Signer`. Cached per process.
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
