import {
  contentTypes,
  defaultCredentialTypes,
  makeKeyPackageRef,
  mlsMessageDecoder,
  nodeTypes,
  wireformats,
} from 'ts-mls';
import { DEFAULT_CIPHERSUITE, loadCiphersuite } from './ciphersuite.ts';
import { parseDeviceIdentity } from './device-identity.ts';
import { decodeRatchetTree } from './join-group.ts';
import { decodeKeyPackageMessage, LAST_RESORT_EXTENSION_TYPE } from './key-package.ts';
import { MlsError } from './mls-error.ts';

/**
 * Secret-free readings of public MLS objects for the delivery service: what a published key package
 * claims, which devices a ratchet tree holds, and the public header of an application message.
 */

/** RFC 9420 §17.1: ciphersuite 1 (X25519, AES-128-GCM, SHA-256, Ed25519). */
export const DEFAULT_CIPHERSUITE_ID = 1;

export interface KeyPackageSummary {
  readonly accountId: string;
  readonly deviceId: string;
  readonly signaturePublicKey: Uint8Array;
  readonly cipherSuite: number;
  readonly lastResort: boolean;
  /** KeyPackageRef (RFC 9420 §5.2), hex */
  readonly ref: string;
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * Reads a published key package (MLSMessage bytes). Throws MlsError: MLS_MALFORMED,
 * MLS_UNEXPECTED_MESSAGE, MLS_INVALID_IDENTITY (not a `<accountId>:<deviceId>` basic credential) or
 * MLS_UNSUPPORTED_CIPHERSUITE (not ciphersuite 1).
 */
export async function inspectKeyPackage(bytes: Uint8Array): Promise<KeyPackageSummary> {
  const keyPackage = decodeKeyPackageMessage(bytes);
  const credential = keyPackage.leafNode.credential;
  if (credential.credentialType !== defaultCredentialTypes.basic || !('identity' in credential)) {
    throw new MlsError('MLS_INVALID_IDENTITY', 'a key package must carry a basic credential');
  }
  const identity = parseDeviceIdentity(credential.identity);
  if (identity === undefined) {
    throw new MlsError('MLS_INVALID_IDENTITY', 'the credential does not name <accountId>:<deviceId>');
  }
  if (keyPackage.cipherSuite !== DEFAULT_CIPHERSUITE_ID) {
    throw new MlsError(
      'MLS_UNSUPPORTED_CIPHERSUITE',
      `ciphersuite ${keyPackage.cipherSuite} is not accepted`,
    );
  }
  const suite = await loadCiphersuite(DEFAULT_CIPHERSUITE);
  return {
    ...identity,
    signaturePublicKey: keyPackage.leafNode.signaturePublicKey,
    cipherSuite: keyPackage.cipherSuite,
    lastResort: keyPackage.extensions.some((e) => e.extensionType === LAST_RESORT_EXTENSION_TYPE),
    ref: hex(await makeKeyPackageRef(keyPackage, suite.hash)),
  };
}

/** One occupied leaf of a ratchet tree. */
export interface TreeLeaf {
  readonly leafIndex: number;
  readonly accountId: string | undefined;
  readonly deviceId: string | undefined;
  readonly signaturePublicKey: Uint8Array;
}

/** The occupied leaves of an encoded ratchet tree, in order. Throws MlsError MLS_MALFORMED. */
export function inspectRatchetTree(bytes: Uint8Array): TreeLeaf[] {
  const leaves: TreeLeaf[] = [];
  decodeRatchetTree(bytes).forEach((node, index) => {
    if (index % 2 !== 0 || node === undefined || node.nodeType !== nodeTypes.leaf) return;
    const credential = node.leaf.credential;
    const identity = 'identity' in credential ? parseDeviceIdentity(credential.identity) : undefined;
    leaves.push({
      leafIndex: index / 2,
      accountId: identity?.accountId,
      deviceId: identity?.deviceId,
      signaturePublicKey: node.leaf.signaturePublicKey,
    });
  });
  return leaves;
}

/** The public header of an application message. */
export interface ApplicationHeader {
  readonly groupId: Uint8Array;
  readonly epoch: bigint;
}

/**
 * Checks that bytes are an MLS PrivateMessage carrying application data and returns its public header
 * (group id, epoch); the content stays encrypted. Throws MlsError: MLS_MALFORMED, or
 * MLS_UNEXPECTED_MESSAGE (anything else, e.g. plaintext or a handshake in a PrivateMessage).
 */
export function inspectApplicationMessage(bytes: Uint8Array): ApplicationHeader {
  let decoded: ReturnType<typeof mlsMessageDecoder>;
  try {
    decoded = mlsMessageDecoder(bytes, 0);
  } catch (cause) {
    throw new MlsError('MLS_MALFORMED', 'the message is not an MLS message', { cause });
  }
  if (decoded === undefined || decoded[1] !== bytes.length) {
    throw new MlsError('MLS_MALFORMED', 'the message is not an MLS message');
  }
  const message = decoded[0];
  if (
    message.wireformat !== wireformats.mls_private_message ||
    message.privateMessage.contentType !== contentTypes.application
  ) {
    throw new MlsError('MLS_UNEXPECTED_MESSAGE', 'application data travels as an MLS PrivateMessage');
  }
  return { groupId: message.privateMessage.groupId, epoch: message.privateMessage.epoch };
}
