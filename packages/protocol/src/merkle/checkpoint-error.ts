import type { ErrorCode } from '../errors.ts';

/**
 * Why a signed note, verifier key or checkpoint was refused (their parsers throw nothing else);
 * each code is in the one error catalog:
 * - CHECKPOINT_MALFORMED: the text does not follow the signed-note, verifier-key or checkpoint format
 * - CHECKPOINT_UNKNOWN_KEY: no signature in the note is by the expected key
 * - CHECKPOINT_BAD_SIGNATURE: a signature by the expected key does not verify
 * - CHECKPOINT_WRONG_ORIGIN: the checkpoint is of another log (its origin line is not the expected one)
 */
export type CheckpointErrorCode = Extract<ErrorCode, `CHECKPOINT_${string}`>;

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly code: CheckpointErrorCode,
    message: string,
  ) {
    super(message);
  }
}
