import type { ErrorCode } from '@courier/protocol';

/**
 * Codes of the errors this package throws, each one in the protocol package's catalog (`errorCatalog`,
 * with its HTTP status and sentence; `satisfies` keeps the two in step at compile time).
 */
export const MLS_ERROR_CODES = [
  /** The bytes are not a well-formed MLS structure (truncated, trailing bytes, bad enum, bad lengths). */
  'MLS_MALFORMED',
  /** A handshake message (commit or proposal) that is not a PublicMessage. */
  'MLS_NOT_PUBLIC_MESSAGE',
  /** An MLSMessage of another kind than the call expects (e.g. a Welcome where a commit was expected). */
  'MLS_UNEXPECTED_MESSAGE',
  /** A commit without an UpdatePath although RFC 9420 §12.4 requires one. */
  'MLS_MISSING_UPDATE_PATH',
  /** A ciphersuite the installed crypto provider cannot run. */
  'MLS_UNSUPPORTED_CIPHERSUITE',
  /** Saved group state written by an unknown format version. */
  'MLS_STATE_VERSION',
  /** A device identity that is not `<accountId>:<deviceId>`. */
  'MLS_INVALID_IDENTITY',
  /** An argument the operation cannot use (an empty member list, an unknown leaf, our own leaf, …). */
  'MLS_INVALID_ARGUMENT',
  /** No stored key package matches the Welcome. */
  'MLS_NO_MATCHING_KEY_PACKAGE',
  /** A Welcome whose group info or ratchet tree fails RFC 9420's checks (signatures, tree hash, tree validity). */
  'MLS_WELCOME_REJECTED',
  /** This device is no longer a member of the group (it was removed). */
  'MLS_NOT_MEMBER',
  /** A message for another group. */
  'MLS_WRONG_GROUP',
  /** A handshake message for another epoch than the group's current one (stale or from the future). */
  'MLS_WRONG_EPOCH',
  /** An application message that could not be decrypted or authenticated (tampered, replayed, too old, …). */
  'MLS_DECRYPT_FAILED',
  /** A handshake message the group's rules reject (bad signature, membership or confirmation tag, invalid proposal, …). */
  'MLS_REJECTED',
  /** The MLS library refused or failed the operation; `cause` has its error. */
  'MLS_OPERATION_FAILED',
] as const satisfies readonly ErrorCode[];

export type MlsErrorCode = (typeof MLS_ERROR_CODES)[number];

/** The one error type this package throws; lower errors are kept as `cause`. */
export class MlsError extends Error {
  override readonly name = 'MlsError';
  readonly code: MlsErrorCode;

  constructor(code: MlsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Wraps anything thrown by the library as an MlsError, keeping an MlsError as it is. */
export function toMlsError(code: MlsErrorCode, message: string, cause: unknown): MlsError {
  if (cause instanceof MlsError) return cause;
  return new MlsError(code, message, { cause });
}
