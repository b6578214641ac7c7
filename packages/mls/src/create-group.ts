import { createGroup as createLibraryGroup, generateKeyPackageWithKey } from 'ts-mls';
import { type DeviceIdentity, deviceCredential } from './device-identity.ts';
import { courierCapabilities } from './key-package.ts';
import type { MlsClientContext } from './mls-context.ts';
import { MlsError, toMlsError } from './mls-error.ts';
import { type MlsGroup, wrapGroup } from './mls-group.ts';

/** Creates a group with this device as its only member (leaf 0, epoch 0). */
export async function createGroup(
  context: MlsClientContext,
  identity: DeviceIdentity,
  groupId: Uint8Array,
): Promise<MlsGroup> {
  if (groupId.length === 0 || groupId.length > 255) {
    throw new MlsError('MLS_INVALID_ARGUMENT', 'a group id has 1 to 255 bytes');
  }
  try {
    const own = await generateKeyPackageWithKey({
      credential: deviceCredential(identity),
      capabilities: courierCapabilities(),
      signatureKeyPair: { signKey: identity.signaturePrivateKey, publicKey: identity.signaturePublicKey },
      cipherSuite: context.library.cipherSuite,
    });
    const state = await createLibraryGroup({
      context: context.library,
      groupId,
      keyPackage: own.publicPackage,
      privateKeyPackage: own.privatePackage,
    });
    return wrapGroup(state);
  } catch (cause) {
    throw toMlsError('MLS_OPERATION_FAILED', 'could not create the group', cause);
  }
}
