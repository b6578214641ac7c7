/** Why a Merkle tree operation or proof was refused. Verification throws nothing else. */
export type MerkleProofErrorCode =
  /** An index or tree size is not a whole number in range (index ≥ size, size1 > size2, …). */
  | 'MERKLE_BAD_SIZE'
  /** A leaf hash, proof hash or root is not a 32-byte SHA-256 value. */
  | 'MERKLE_BAD_HASH'
  /** The proof has the wrong number of hashes for the sizes it claims to cover. */
  | 'MERKLE_BAD_PROOF'
  /** The proof is well formed but leads to a different root. */
  | 'MERKLE_ROOT_MISMATCH';

export class MerkleProofError extends Error {
  override readonly name = 'MerkleProofError';
  constructor(
    readonly code: MerkleProofErrorCode,
    message: string,
  ) {
    super(message);
  }
}
