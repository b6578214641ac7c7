import {
  type AuthenticationService,
  type CiphersuiteName,
  type Credential,
  defaultCredentialTypes,
  type MlsContext as LibraryContext,
} from 'ts-mls';
import { cachedEd25519Verifier, DEFAULT_CIPHERSUITE, loadCiphersuite } from './ciphersuite.ts';
import { parseDeviceIdentity } from './device-identity.ts';

/**
 * Decides whether a member's credential and signature key are acceptable. The SDK plugs in its check
 * against the server's certification of devices; the default accepts any well-formed device identity.
 */
export type CredentialValidator = (
  identity: { accountId: string; deviceId: string },
  signaturePublicKey: Uint8Array,
) => boolean | Promise<boolean>;

/** Everything an MLS operation needs besides the group: the crypto and the credential check. */
export interface MlsClientContext {
  readonly ciphersuite: CiphersuiteName;
  /** @internal the library's context; only this package reads it. */
  readonly library: LibraryContext;
}

/** Builds the context for client operations (default ciphersuite 1, any well-formed identity accepted). */
export async function createMlsClientContext(
  options: { ciphersuite?: CiphersuiteName; validateCredential?: CredentialValidator } = {},
): Promise<MlsClientContext> {
  const ciphersuite = options.ciphersuite ?? DEFAULT_CIPHERSUITE;
  const validate = options.validateCredential ?? (() => true);
  const authService: AuthenticationService = {
    async validateCredential(credential: Credential, signaturePublicKey: Uint8Array): Promise<boolean> {
      if (credential.credentialType !== defaultCredentialTypes.basic || !('identity' in credential))
        return false;
      const identity = parseDeviceIdentity(credential.identity);
      if (identity === undefined) return false;
      return validate(identity, signaturePublicKey);
    },
  };
  const suite = await loadCiphersuite(ciphersuite);
  // Each context (a device) keeps the verification keys it has imported: a process that plays several
  // devices (tests, benches) does not let one device's checks warm another's.
  const cipherSuite = ciphersuite.endsWith('_Ed25519')
    ? { ...suite, signature: cachedEd25519Verifier(suite.signature) }
    : suite;
  return { ciphersuite, library: { cipherSuite, authService } };
}
