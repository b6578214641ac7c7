/** Why a signed note, verifier key or checkpoint was refused. Their parsers throw nothing else. */
export type CheckpointErrorCode =
  /** The text does not follow the signed-note, verifier-key or checkpoint format. */
  | 'CHECKPOINT_MALFORMED'
  /** No signature in the note is by the expected key. */
  | 'CHECKPOINT_UNKNOWN_KEY'
  /** A signature by the expected key does not verify. */
  | 'CHECKPOINT_BAD_SIGNATURE';

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly code: CheckpointErrorCode,
    message: string,
  ) {
    super(message);
  }
}
