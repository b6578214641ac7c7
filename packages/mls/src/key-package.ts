import {
  type Capabilities,
  decode,
  defaultCapabilities,
  encode,
  generateKeyPackageWithKey,
  type KeyPackage,
  makeCustomExtension,
  makeKeyPackageRef,
  mlsMessageDecoder,
  mlsMessageEncoder,
  type PrivateKeyPackage,
  privateKeyPackageDecoder,
  privateKeyPackageEncoder,
  protocolVersions,
  wireformats,
} from 'ts-mls';
import { type DeviceIdentity, deviceCredential } from './device-identity.ts';
import type { MlsClientContext } from './mls-context.ts';
import { MlsError, toMlsError } from './mls-error.ts';

/** KeyPackage extension `last_resort` (0x000A, MLS extensions draft; also used by OpenMLS and core-crypto). */
export const LAST_RESORT_EXTENSION_TYPE = 0x000a;

/** A key package as the device keeps it: the public MLSMessage it publishes and its private keys. */
export interface StoredKeyPackage {
  /** MLSMessage (mls_key_package) bytes, what the server stores and hands out. */
  readonly keyPackage: Uint8Array;
  /** The private init/encryption keys; secret, stays on the device. */
  readonly privateKeyPackage: Uint8Array;
  /** KeyPackageRef (RFC 9420 §5.2): how a Welcome names the key package it is for. */
  readonly ref: Uint8Array;
  readonly lastResort: boolean;
}

/** Capabilities every Courier leaf advertises: the library defaults plus the last_resort extension. */
export function courierCapabilities(): Capabilities {
  const base = defaultCapabilities();
  return { ...base, extensions: [...new Set([...base.extensions, LAST_RESORT_EXTENSION_TYPE])] };
}

/**
 * Creates a key package for this device. One-time key packages are consumed by the server when handed
 * out; the last-resort one (marked with the last_resort extension) is handed out when no other is left.
 */
export async function createKeyPackage(
  context: MlsClientContext,
  identity: DeviceIdentity,
  options: { lastResort?: boolean } = {},
): Promise<StoredKeyPackage> {
  const lastResort = options.lastResort ?? false;
  try {
    const generated = await generateKeyPackageWithKey({
      credential: deviceCredential(identity),
      capabilities: courierCapabilities(),
      extensions: lastResort
        ? [
            makeCustomExtension({
              extensionType: LAST_RESORT_EXTENSION_TYPE,
              extensionData: new Uint8Array(),
            }),
          ]
        : [],
      signatureKeyPair: { signKey: identity.signaturePrivateKey, publicKey: identity.signaturePublicKey },
      cipherSuite: context.library.cipherSuite,
    });
    return {
      keyPackage: encodeKeyPackageMessage(generated.publicPackage),
      privateKeyPackage: encode(privateKeyPackageEncoder, generated.privatePackage),
      ref: await makeKeyPackageRef(generated.publicPackage, context.library.cipherSuite.hash),
      lastResort,
    };
  } catch (cause) {
    throw toMlsError('MLS_OPERATION_FAILED', 'could not create a key package', cause);
  }
}

/** @internal Encodes a KeyPackage as an MLSMessage. */
export function encodeKeyPackageMessage(keyPackage: KeyPackage): Uint8Array {
  return encode(mlsMessageEncoder, {
    version: protocolVersions.mls10,
    wireformat: wireformats.mls_key_package,
    keyPackage,
  });
}

/** @internal Decodes an MLSMessage that must be a KeyPackage (MLS_MALFORMED / MLS_UNEXPECTED_MESSAGE). */
export function decodeKeyPackageMessage(bytes: Uint8Array): KeyPackage {
  let message: ReturnType<typeof mlsMessageDecoder>;
  try {
    message = mlsMessageDecoder(bytes, 0);
  } catch (cause) {
    throw new MlsError('MLS_MALFORMED', 'the key package could not be decoded', { cause });
  }
  if (message === undefined || message[1] !== bytes.length) {
    throw new MlsError('MLS_MALFORMED', 'the key package could not be decoded');
  }
  if (message[0].wireformat !== wireformats.mls_key_package) {
    throw new MlsError('MLS_UNEXPECTED_MESSAGE', 'expected an MLSMessage holding a key package');
  }
  return message[0].keyPackage;
}

/** @internal Decodes the private half of a stored key package. */
export function decodePrivateKeyPackage(bytes: Uint8Array): PrivateKeyPackage {
  let decoded: PrivateKeyPackage | undefined;
  try {
    decoded = decode(privateKeyPackageDecoder, bytes);
  } catch (cause) {
    throw new MlsError('MLS_MALFORMED', 'the private key package could not be decoded', { cause });
  }
  if (decoded === undefined)
    throw new MlsError('MLS_MALFORMED', 'the private key package could not be decoded');
  return decoded;
}
