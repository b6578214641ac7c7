import { createApplicationMessage, encode, mlsMessageEncoder } from 'ts-mls';
import type { MlsClientContext } from './mls-context.ts';
import { MlsError, toMlsError } from './mls-error.ts';
import { type MlsGroup, wrapGroup } from './mls-group.ts';

/** An encrypted application message and the group state after sending it. */
export interface EncryptResult {
  readonly group: MlsGroup;
  /** MLSMessage bytes: a PrivateMessage. */
  readonly message: Uint8Array;
  /** Message keys used; erase them once `group` is adopted. */
  readonly consumed: Uint8Array[];
}

/** Encrypts an application message for the group's current epoch (always a PrivateMessage). */
export async function encryptMessage(
  context: MlsClientContext,
  group: MlsGroup,
  plaintext: Uint8Array,
  authenticatedData: Uint8Array = new Uint8Array(),
): Promise<EncryptResult> {
  if (!group.active) throw new MlsError('MLS_NOT_MEMBER', 'this device is no longer a member of the group');
  try {
    const result = await createApplicationMessage({
      context: context.library,
      state: group.state,
      message: plaintext,
      authenticatedData,
    });
    return {
      group: wrapGroup(result.newState),
      message: encode(mlsMessageEncoder, result.message),
      consumed: result.consumed,
    };
  } catch (cause) {
    throw toMlsError('MLS_OPERATION_FAILED', 'could not encrypt the message', cause);
  }
}
