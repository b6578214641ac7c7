import type { ErrorCode } from '../errors.ts';

/**
 * Why a Merkle tree operation or proof was refused (verification throws nothing else); each code
 * is in the one error catalog:
 * - MERKLE_BAD_SIZE: an index or tree size is not a whole number in range (index ≥ size, size1 > size2, …)
 * - MERKLE_BAD_HASH: a leaf hash, proof hash or root is not a 32-byte SHA-256 value
 * - MERKLE_BAD_PROOF: the proof has the wrong number of hashes for the sizes it claims to cover
 * - MERKLE_ROOT_MISMATCH: the proof is well formed but leads to a different root
 */
export type MerkleProofErrorCode = Extract<ErrorCode, `MERKLE_${string}`>;

export class MerkleProofError extends Error {
  override readonly name = 'MerkleProofError';
  constructor(
    readonly code: MerkleProofErrorCode,
    message: string,
  ) {
    super(message);
  }
}
