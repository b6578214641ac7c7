import { type CiphersuiteImpl, type CiphersuiteName, getCiphersuiteImpl, nobleCryptoProvider } from 'ts-mls';
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
 * Loads a ciphersuite with ts-mls's synchronous noble provider (pure JS: much faster than awaiting
 * WebCrypto for every hash). Cached per process.
 */
export function loadCiphersuite(name: CiphersuiteName = DEFAULT_CIPHERSUITE): Promise<CiphersuiteImpl> {
  let suite = suites.get(name);
  if (suite === undefined) {
    suite = getCiphersuiteImpl(name, nobleCryptoProvider).then(
      (impl) => {
        loadedById.set(impl.id, impl);
        return impl;
      },
      (cause: unknown) => {
        suites.delete(name);
        throw new MlsError('MLS_UNSUPPORTED_CIPHERSUITE', `ciphersuite ${name} is not available`, { cause });
      },
    );
    suites.set(name, suite);
  }
  return suite;
}
