import { equalBytes, HASH_SIZE, nodeHash, rootFromLeafHashes, splitPoint } from './merkle-hash.ts';

/** Why a proof was refused. Verification never throws anything else. */
export class MerkleProofError extends Error {
  override readonly name = 'MerkleProofError';
  constructor(
    readonly code: 'MERKLE_BAD_PROOF' | 'MERKLE_BAD_SIZE' | 'MERKLE_ROOT_MISMATCH',
    message: string,
  ) {
    super(message);
  }
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1: the audit path of leaf m. */
export function inclusionProof(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= leaves.length) {
    throw new MerkleProofError('MERKLE_BAD_SIZE', `leaf ${index} is not in a tree of ${leaves.length}`);
  }
  const path = (m: number, d: readonly Uint8Array[]): Uint8Array[] => {
    if (d.length <= 1) return [];
    const k = splitPoint(d.length);
    return m < k
      ? [...path(m, d.slice(0, k)), rootFromLeafHashes(d.slice(k))]
      : [...path(m - k, d.slice(k)), rootFromLeafHashes(d.slice(0, k))];
  };
  return path(index, leaves);
}

/** PROOF(m, D[n]) of RFC 9162 §2.1.4.1: that the tree of size m is a prefix of the tree of size n. */
export function consistencyProof(leaves: readonly Uint8Array[], size1: number): Uint8Array[] {
  if (!Number.isSafeInteger(size1) || size1 < 1 || size1 > leaves.length) {
    throw new MerkleProofError('MERKLE_BAD_SIZE', `no consistency proof from ${size1} to ${leaves.length}`);
  }
  const subproof = (m: number, d: readonly Uint8Array[], complete: boolean): Uint8Array[] => {
    if (m === d.length) return complete ? [] : [rootFromLeafHashes(d)];
    const k = splitPoint(d.length);
    return m <= k
      ? [...subproof(m, d.slice(0, k), complete), rootFromLeafHashes(d.slice(k))]
      : [...subproof(m - k, d.slice(k), false), rootFromLeafHashes(d.slice(0, k))];
  };
  return subproof(size1, leaves, true);
}

// Index arithmetic in BigInt: tree sizes may pass 2^32, where JavaScript's bit operators stop.
const bitLength = (x: bigint): number => x.toString(2).replace(/^0+/, '').length;
const popCount = (x: bigint): number => x.toString(2).replaceAll('0', '').length;
const trailingZeros = (x: bigint): number => {
  let n = 0;
  while (x > 0n && (x & 1n) === 0n) {
    x >>= 1n;
    n += 1;
  }
  return n;
};

function checkSize(value: number, what: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new MerkleProofError('MERKLE_BAD_SIZE', `${what} is not a size`);
  return BigInt(value);
}

/** RFC 9162 §2.1.3.2 decomposition: inner proof length and border length. */
function decompose(index: bigint, size: bigint): { inner: number; border: number } {
  const inner = bitLength(index ^ (size - 1n));
  return { inner, border: popCount(index >> BigInt(inner)) };
}

function chainInner(seed: Uint8Array, proof: readonly Uint8Array[], index: bigint): Uint8Array {
  return proof.reduce(
    (acc, h, i) => (((index >> BigInt(i)) & 1n) === 0n ? nodeHash(acc, h) : nodeHash(h, acc)),
    seed,
  );
}

function chainInnerRight(seed: Uint8Array, proof: readonly Uint8Array[], index: bigint): Uint8Array {
  return proof.reduce((acc, h, i) => (((index >> BigInt(i)) & 1n) === 1n ? nodeHash(h, acc) : acc), seed);
}

function chainBorderRight(seed: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  return proof.reduce((acc, h) => nodeHash(h, acc), seed);
}

/** The root an inclusion proof implies for leaf `index` in a tree of `size`. */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  const i = checkSize(index, 'index');
  const n = checkSize(size, 'size');
  if (i >= n) throw new MerkleProofError('MERKLE_BAD_SIZE', `index ${index} is beyond size ${size}`);
  if (leaf.length !== HASH_SIZE)
    throw new MerkleProofError('MERKLE_BAD_PROOF', 'the leaf hash has the wrong length');
  const { inner, border } = decompose(i, n);
  if (proof.length !== inner + border) {
    throw new MerkleProofError(
      'MERKLE_BAD_PROOF',
      `the proof has ${proof.length} hashes, ${inner + border} expected`,
    );
  }
  if (proof.some((h) => h.length !== HASH_SIZE))
    throw new MerkleProofError('MERKLE_BAD_PROOF', 'a proof hash has the wrong length');
  return chainBorderRight(chainInner(leaf, proof.slice(0, inner), i), proof.slice(inner));
}

/** RFC 9162 §2.1.3.2: verifies that `leaf` is at `index` in the tree of `size` with `root`. */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  if (!equalBytes(rootFromInclusionProof(index, size, leaf, proof), root)) {
    throw new MerkleProofError('MERKLE_ROOT_MISMATCH', 'the proof does not lead to the root');
  }
}

/** RFC 9162 §2.1.4.2: verifies that the tree (size2, root2) extends the tree (size1, root1). */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  const m = checkSize(size1, 'size1');
  const n = checkSize(size2, 'size2');
  if (n < m) throw new MerkleProofError('MERKLE_BAD_SIZE', 'a log cannot shrink');
  if (m === 0n)
    throw new MerkleProofError('MERKLE_BAD_SIZE', 'consistency with the empty tree proves nothing');
  if (m === n) {
    if (proof.length > 0) throw new MerkleProofError('MERKLE_BAD_PROOF', 'equal sizes need an empty proof');
    if (!equalBytes(root1, root2))
      throw new MerkleProofError('MERKLE_ROOT_MISMATCH', 'equal sizes with different roots');
    return;
  }
  if (proof.length === 0) throw new MerkleProofError('MERKLE_BAD_PROOF', 'the proof is empty');
  if (proof.some((h) => h.length !== HASH_SIZE))
    throw new MerkleProofError('MERKLE_BAD_PROOF', 'a proof hash has the wrong length');
  const decomposed = decompose(m - 1n, n);
  const shift = trailingZeros(m);
  const inner = decomposed.inner - shift;
  // The proof starts with the root of the subtree of size 2^shift, unless size1 is that subtree.
  const [seed, start] = m === 1n << BigInt(shift) ? [root1, 0] : [proof[0]!, 1];
  if (proof.length !== start + inner + decomposed.border) {
    throw new MerkleProofError(
      'MERKLE_BAD_PROOF',
      `the proof has ${proof.length} hashes, ${start + inner + decomposed.border} expected`,
    );
  }
  const rest = proof.slice(start);
  const mask = (m - 1n) >> BigInt(shift);
  const hash1 = chainBorderRight(chainInnerRight(seed, rest.slice(0, inner), mask), rest.slice(inner));
  if (!equalBytes(hash1, root1))
    throw new MerkleProofError('MERKLE_ROOT_MISMATCH', 'the proof does not lead to the first root');
  const hash2 = chainBorderRight(chainInner(seed, rest.slice(0, inner), mask), rest.slice(inner));
  if (!equalBytes(hash2, root2))
    throw new MerkleProofError('MERKLE_ROOT_MISMATCH', 'the proof does not lead to the second root');
}
