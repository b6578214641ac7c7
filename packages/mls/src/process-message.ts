import {
  contentTypes,
  type MlsFramedMessage,
  type MlsMessage,
  mlsMessageDecoder,
  processMessage as processLibraryMessage,
  wireformats,
} from 'ts-mls';
import { inspectHandshake } from './inspect-handshake.ts';
import type { MlsClientContext } from './mls-context.ts';
import { MlsError, type MlsErrorCode } from './mls-error.ts';
import { type GroupMember, groupMemberAt, type MlsGroup, wrapGroup } from './mls-group.ts';
import { requiresUpdatePath } from './requires-update-path.ts';

/** Why an incoming message was not applied. The group is unchanged. */
export type IncomingFailureCode = Extract<
  MlsErrorCode,
  | 'MLS_MALFORMED'
  | 'MLS_UNEXPECTED_MESSAGE'
  | 'MLS_NOT_PUBLIC_MESSAGE'
  | 'MLS_MISSING_UPDATE_PATH'
  | 'MLS_WRONG_GROUP'
  | 'MLS_WRONG_EPOCH'
  | 'MLS_NOT_MEMBER'
  | 'MLS_DECRYPT_FAILED'
  | 'MLS_REJECTED'
>;

/** What processing one incoming MLSMessage did. Never thrown: a bad message is a `failed` value. */
export type IncomingOutcome =
  | {
      readonly kind: 'application';
      readonly group: MlsGroup;
      readonly plaintext: Uint8Array;
      readonly authenticatedData: Uint8Array;
      /** The sending member (looked up in the current tree), if known. */
      readonly sender: GroupMember | undefined;
      readonly consumed: Uint8Array[];
    }
  | {
      readonly kind: 'commit';
      readonly group: MlsGroup;
      readonly senderLeafIndex: number | undefined;
      readonly consumed: Uint8Array[];
    }
  | { readonly kind: 'proposal'; readonly group: MlsGroup; readonly consumed: Uint8Array[] }
  | {
      /** This device was removed by the commit: keep `group` only to show history; it cannot read on. */
      readonly kind: 'removed';
      readonly group: MlsGroup;
      readonly senderLeafIndex: number | undefined;
    }
  | {
      readonly kind: 'failed';
      readonly code: IncomingFailureCode;
      readonly message: string;
      /** The unchanged group. */
      readonly group: MlsGroup;
      readonly cause?: unknown;
    };

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function failed(
  group: MlsGroup,
  code: IncomingFailureCode,
  message: string,
  cause?: unknown,
): IncomingOutcome {
  return cause === undefined
    ? { kind: 'failed', code, message, group }
    : { kind: 'failed', code, message, group, cause };
}

function decodeFramed(bytes: Uint8Array): MlsFramedMessage | IncomingFailureCode {
  let decoded: [MlsMessage, number] | undefined;
  try {
    decoded = mlsMessageDecoder(bytes, 0);
  } catch {
    return 'MLS_MALFORMED';
  }
  if (decoded === undefined || decoded[1] !== bytes.length) return 'MLS_MALFORMED';
  const message = decoded[0];
  if (
    message.wireformat === wireformats.mls_public_message ||
    message.wireformat === wireformats.mls_private_message
  ) {
    return message;
  }
  return 'MLS_UNEXPECTED_MESSAGE';
}

/**
 * Processes one incoming MLSMessage for the group: a PublicMessage commit or proposal, or a
 * PrivateMessage application message. Handshake messages in a PrivateMessage are refused, as are
 * commits without the UpdatePath RFC 9420 §12.4 requires. Whatever the bytes, the outcome is a value;
 * a commit that removes this device is the `removed` outcome.
 */
export async function processMessage(
  context: MlsClientContext,
  group: MlsGroup,
  bytes: Uint8Array,
): Promise<IncomingOutcome> {
  if (!group.active) return failed(group, 'MLS_NOT_MEMBER', 'this device is no longer a member of the group');
  const message = decodeFramed(bytes);
  if (typeof message === 'string') return failed(group, message, 'the bytes are not a framed MLS message');

  let senderLeafIndex: number | undefined;
  if (message.wireformat === wireformats.mls_public_message) {
    let summary: ReturnType<typeof inspectHandshake>;
    try {
      summary = inspectHandshake(bytes);
    } catch (cause) {
      const code = cause instanceof MlsError ? cause.code : 'MLS_MALFORMED';
      return failed(group, code as IncomingFailureCode, 'not a handshake message', cause);
    }
    if (!sameBytes(summary.groupId, group.groupId))
      return failed(group, 'MLS_WRONG_GROUP', 'a message for another group');
    if (summary.contentType === 'commit') {
      if (summary.epoch !== group.epoch) {
        return failed(
          group,
          'MLS_WRONG_EPOCH',
          `a commit for epoch ${summary.epoch}; the group is at ${group.epoch}`,
        );
      }
      const byValue = summary.proposals.every((proposal) => proposal.kind !== 'reference');
      if (byValue && !summary.hasUpdatePath && requiresUpdatePath(summary.proposals)) {
        return failed(
          group,
          'MLS_MISSING_UPDATE_PATH',
          'the commit lacks the UpdatePath its proposals require',
        );
      }
    }
    senderLeafIndex = summary.senderLeafIndex;
  } else if (!sameBytes(message.privateMessage.groupId, group.groupId)) {
    return failed(group, 'MLS_WRONG_GROUP', 'a message for another group');
  } else if (message.privateMessage.contentType !== contentTypes.application) {
    return failed(group, 'MLS_NOT_PUBLIC_MESSAGE', 'commits and proposals must travel as PublicMessage');
  }

  let result: Awaited<ReturnType<typeof processLibraryMessage>>;
  try {
    result = await processLibraryMessage({ context: context.library, state: group.state, message });
  } catch (cause) {
    const isApplication = message.wireformat === wireformats.mls_private_message;
    return failed(
      group,
      isApplication ? 'MLS_DECRYPT_FAILED' : 'MLS_REJECTED',
      isApplication ? 'the message could not be decrypted' : 'the handshake message was rejected',
      cause,
    );
  }

  const next = wrapGroup(result.newState);
  if (result.kind === 'applicationMessage') {
    return {
      kind: 'application',
      group: next,
      plaintext: result.message,
      authenticatedData: result.aad,
      sender: result.senderLeafIndex === undefined ? undefined : groupMemberAt(next, result.senderLeafIndex),
      consumed: result.consumed,
    };
  }
  if (message.wireformat !== wireformats.mls_public_message) {
    // Unreachable given the content-type check above; never adopt a handshake that came encrypted.
    return failed(group, 'MLS_NOT_PUBLIC_MESSAGE', 'commits and proposals must travel as PublicMessage');
  }
  if (result.actionTaken === 'reject')
    return failed(group, 'MLS_REJECTED', 'the handshake message was rejected');
  if (!next.active) return { kind: 'removed', group: next, senderLeafIndex };
  if (message.publicMessage.content.contentType === contentTypes.commit) {
    return { kind: 'commit', group: next, senderLeafIndex, consumed: result.consumed };
  }
  return { kind: 'proposal', group: next, consumed: result.consumed };
}
