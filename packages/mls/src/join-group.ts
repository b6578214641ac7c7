import {
  CryptoVerificationError,
  joinGroup as joinLibraryGroup,
  mlsMessageDecoder,
  type RatchetTree,
  ValidationError,
  wireformats,
} from 'ts-mls';
import { decodeRatchetTreeBytes } from './fast-tree-decoder.ts';
import { decodeKeyPackageMessage, decodePrivateKeyPackage, type StoredKeyPackage } from './key-package.ts';
import type { MlsClientContext } from './mls-context.ts';
import { MlsError, toMlsError } from './mls-error.ts';
import { type MlsGroup, wrapGroup } from './mls-group.ts';

/** The result of joining: the group, and which stored key package was used (delete it unless last-resort). */
export interface JoinResult {
  readonly group: MlsGroup;
  readonly keyPackageRef: Uint8Array;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function decodeWelcome(bytes: Uint8Array) {
  let decoded: ReturnType<typeof mlsMessageDecoder>;
  try {
    decoded = mlsMessageDecoder(bytes, 0);
  } catch (cause) {
    throw new MlsError('MLS_MALFORMED', 'the Welcome could not be decoded', { cause });
  }
  if (decoded === undefined || decoded[1] !== bytes.length) {
    throw new MlsError('MLS_MALFORMED', 'the Welcome could not be decoded');
  }
  if (decoded[0].wireformat !== wireformats.mls_welcome) {
    throw new MlsError('MLS_UNEXPECTED_MESSAGE', 'expected an MLSMessage holding a Welcome');
  }
  return decoded[0].welcome;
}

/** @internal Decodes an encoded ratchet tree (MLS_MALFORMED when it is not exactly one). */
export function decodeRatchetTree(bytes: Uint8Array): RatchetTree {
  let decoded: RatchetTree | undefined;
  try {
    decoded = decodeRatchetTreeBytes(bytes);
  } catch (cause) {
    throw new MlsError('MLS_MALFORMED', 'the ratchet tree could not be decoded', { cause });
  }
  if (decoded === undefined) throw new MlsError('MLS_MALFORMED', 'the ratchet tree could not be decoded');
  return decoded;
}

/**
 * Joins a group from a Welcome (MLSMessage bytes) with the ratchet tree served apart from it, using
 * whichever of this device's stored key packages the Welcome is for. Without `ratchetTree`, the Welcome
 * must carry the tree in its `ratchet_tree` extension (as other MLS clients' Welcomes may).
 */
export async function joinGroup(
  context: MlsClientContext,
  input: { welcome: Uint8Array; ratchetTree?: Uint8Array; keyPackages: readonly StoredKeyPackage[] },
): Promise<JoinResult> {
  const welcome = decodeWelcome(input.welcome);
  const ratchetTree = input.ratchetTree === undefined ? undefined : decodeRatchetTree(input.ratchetTree);
  const stored = input.keyPackages.find((candidate) =>
    welcome.secrets.some((secret) => sameBytes(secret.newMember, candidate.ref)),
  );
  if (stored === undefined) {
    throw new MlsError(
      'MLS_NO_MATCHING_KEY_PACKAGE',
      'the Welcome is for none of this device’s key packages',
    );
  }
  try {
    const state = await joinLibraryGroup({
      context: context.library,
      welcome,
      keyPackage: decodeKeyPackageMessage(stored.keyPackage),
      privateKeys: decodePrivateKeyPackage(stored.privateKeyPackage),
      ...(ratchetTree === undefined ? {} : { ratchetTree }),
    });
    return { group: wrapGroup(state), keyPackageRef: stored.ref };
  } catch (cause) {
    // What the sender gave fails the RFC's checks (RFC 9420 §12.4.3.1): refused input, not a fault of ours.
    if (cause instanceof ValidationError || cause instanceof CryptoVerificationError) {
      throw new MlsError('MLS_WELCOME_REJECTED', 'the Welcome or its ratchet tree failed validation', {
        cause,
      });
    }
    throw toMlsError('MLS_OPERATION_FAILED', 'could not join the group from the Welcome', cause);
  }
}
