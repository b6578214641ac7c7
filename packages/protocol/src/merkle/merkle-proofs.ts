import { equalBytes, nodeHash, requireHash } from './merkle-hash.ts';
import { MerkleProofError } from './merkle-proof-error.ts';
import { MerkleTree } from './merkle-tree.ts';
import { half, isCount, isOdd, isPowerOfTwo } from './tree-math.ts';

// Kept so `index.ts` can go on importing the error from here; its home is merkle-proof-error.ts.
export { MerkleProofError } from './merkle-proof-error.ts';

/** PATH(index, D[n]) of RFC 9162 §2.1.3.1 for the tree over `leaves` (n = leaves.length). */
export function inclusionProof(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  return MerkleTree.fromLeafHashes(leaves).inclusionProof(index);
}

/** PROOF(size1, D[n]) of RFC 9162 §2.1.4.1: the tree of size1 is a prefix of the tree over `leaves`. */
export function consistencyProof(leaves: readonly Uint8Array[], size1: number): Uint8Array[] {
  return MerkleTree.fromLeafHashes(leaves).consistencyProof(size1);
}

function requireCount(value: number, what: string): void {
  if (!isCount(value)) throw new MerkleProofError('MERKLE_BAD_SIZE', `${what} ${value} is not a size`);
}

function requireProofHashes(proof: readonly Uint8Array[]): void {
  for (const [i, hash] of proof.entries()) requireHash(hash, `proof hash ${i}`);
}

const tooLong = () =>
  new MerkleProofError('MERKLE_BAD_PROOF', 'the proof has more hashes than the tree needs');
const tooShort = () =>
  new MerkleProofError('MERKLE_BAD_PROOF', 'the proof has fewer hashes than the tree needs');

/**
 * The root that an inclusion proof implies for leaf `index` in a tree of `size`, by the algorithm
 * of RFC 9162 §2.1.3.2. Throws MerkleProofError when the proof cannot belong to such a tree.
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  requireCount(index, 'index');
  requireCount(size, 'size');
  if (index >= size)
    throw new MerkleProofError('MERKLE_BAD_SIZE', `index ${index} is not below size ${size}`);
  requireHash(leaf, 'the leaf hash');
  requireProofHashes(proof);
  let [fn, sn, r] = [index, size - 1, leaf];
  for (const p of proof) {
    if (sn === 0) throw tooLong();
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (fn !== 0 && !isOdd(fn)) [fn, sn] = [half(fn), half(sn)];
    } else {
      r = nodeHash(r, p);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  if (sn !== 0) throw tooShort();
  return r;
}

/** RFC 9162 §2.1.3.2: returns when `leaf` is leaf `index` of the tree (size, root); throws otherwise. */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  requireHash(root, 'the root');
  if (!equalBytes(rootFromInclusionProof(index, size, leaf, proof), root)) {
    throw new MerkleProofError('MERKLE_ROOT_MISMATCH', 'the inclusion proof does not lead to the root');
  }
}

/**
 * RFC 9162 §2.1.4.2: returns when the tree (size2, root2) extends the tree (size1, root1); throws
 * MerkleProofError otherwise. There is no proof from the empty tree (size1 = 0 is refused). Equal
 * sizes need an empty proof and equal roots, and nothing more.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  requireCount(size1, 'size1');
  requireCount(size2, 'size2');
  if (size1 > size2)
    throw new MerkleProofError('MERKLE_BAD_SIZE', `a log cannot shrink from ${size1} to ${size2}`);
  if (size1 === 0)
    throw new MerkleProofError('MERKLE_BAD_SIZE', 'consistency with the empty tree proves nothing');
  if (size1 === size2) {
    if (proof.length > 0) throw tooLong();
    if (!equalBytes(root1, root2)) {
      throw new MerkleProofError('MERKLE_ROOT_MISMATCH', 'two roots for the same size differ');
    }
    return;
  }
  if (proof.length === 0) throw tooShort();
  requireHash(root1, 'root1');
  requireHash(root2, 'root2');
  requireProofHashes(proof);
  // A power-of-two first tree is a subtree of the second, so its root starts the path.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  let [fn, sn] = [size1 - 1, size2 - 1];
  while (isOdd(fn)) [fn, sn] = [half(fn), half(sn)];
  let [fr, sr] = [path[0]!, path[0]!];
  for (const c of path.slice(1)) {
    if (sn === 0) throw tooLong();
    if (isOdd(fn) || fn === sn) {
      [fr, sr] = [nodeHash(c, fr), nodeHash(c, sr)];
      while (fn !== 0 && !isOdd(fn)) [fn, sn] = [half(fn), half(sn)];
    } else {
      sr = nodeHash(sr, c);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  if (sn !== 0) throw tooShort();
  if (!equalBytes(fr, root1)) {
    throw new MerkleProofError(
      'MERKLE_ROOT_MISMATCH',
      'the consistency proof does not lead to the first root',
    );
  }
  if (!equalBytes(sr, root2)) {
    throw new MerkleProofError(
      'MERKLE_ROOT_MISMATCH',
      'the consistency proof does not lead to the second root',
    );
  }
}
