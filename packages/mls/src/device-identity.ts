import { type CiphersuiteName, type CredentialBasic, defaultCredentialTypes } from 'ts-mls';
import { DEFAULT_CIPHERSUITE, loadCiphersuite } from './ciphersuite.ts';
import { MlsError } from './mls-error.ts';

/**
 * A device's MLS identity: its basic credential names `<accountId>:<deviceId>` and its signature key
 * pair signs everything the device sends. The private key never leaves the device.
 */
export interface DeviceIdentity {
  readonly accountId: string;
  readonly deviceId: string;
  readonly ciphersuite: CiphersuiteName;
  readonly signaturePublicKey: Uint8Array;
  readonly signaturePrivateKey: Uint8Array;
}

const MAX_IDENTITY_BYTES = 255;
const ACCOUNT_ID = /^[^\s:]+$/u;
const DEVICE_ID = /^\S+$/u;

/** The credential identity bytes for a device: UTF-8 of `<accountId>:<deviceId>`. */
export function encodeDeviceIdentity(accountId: string, deviceId: string): Uint8Array {
  if (!ACCOUNT_ID.test(accountId) || !DEVICE_ID.test(deviceId)) {
    throw new MlsError(
      'MLS_INVALID_IDENTITY',
      'an account id has no ":" or whitespace and a device id has no whitespace; neither is empty',
    );
  }
  const bytes = new TextEncoder().encode(`${accountId}:${deviceId}`);
  if (bytes.length > MAX_IDENTITY_BYTES) {
    throw new MlsError('MLS_INVALID_IDENTITY', `a device identity has at most ${MAX_IDENTITY_BYTES} bytes`);
  }
  return bytes;
}

/** Strict UTF-8 (one decoder: a join checks every member's identity, and making one per call showed up). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Reads `<accountId>:<deviceId>` from credential identity bytes; undefined when it is not one. */
export function parseDeviceIdentity(bytes: Uint8Array): { accountId: string; deviceId: string } | undefined {
  if (bytes.length === 0 || bytes.length > MAX_IDENTITY_BYTES) return undefined;
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return undefined;
  }
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  const accountId = text.slice(0, colon);
  const deviceId = text.slice(colon + 1);
  if (!ACCOUNT_ID.test(accountId) || !DEVICE_ID.test(deviceId)) return undefined;
  return { accountId, deviceId };
}

/** The basic credential of a device identity. */
export function deviceCredential(identity: Pick<DeviceIdentity, 'accountId' | 'deviceId'>): CredentialBasic {
  return {
    credentialType: defaultCredentialTypes.basic,
    identity: encodeDeviceIdentity(identity.accountId, identity.deviceId),
  };
}

/** Generates a fresh signature key pair for a device (Ed25519 under ciphersuite 1). */
export async function generateDeviceIdentity(
  accountId: string,
  deviceId: string,
  ciphersuite: CiphersuiteName = DEFAULT_CIPHERSUITE,
): Promise<DeviceIdentity> {
  encodeDeviceIdentity(accountId, deviceId);
  const suite = await loadCiphersuite(ciphersuite);
  const { publicKey, signKey } = await suite.signature.keygen();
  return { accountId, deviceId, ciphersuite, signaturePublicKey: publicKey, signaturePrivateKey: signKey };
}
