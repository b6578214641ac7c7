import { EMPTY_ROOT, nodeHash, requireHash } from './merkle-hash.ts';
import { MerkleProofError } from './merkle-proof-error.ts';
import { isCount, splitPoint } from './tree-math.ts';

/**
 * An append-only RFC 6962 tree in memory. It keeps the hash of every complete (perfect) subtree,
 * so the root of any earlier size, an inclusion proof and a consistency proof each cost O(log n)
 * hashes. Rebuild it from stored leaf hashes with `MerkleTree.fromLeafHashes`.
 *
 * Hashes handed out are copies: changing them does not change the tree.
 */
export class MerkleTree {
  /** levels[h][i]: the hash of the perfect subtree over leaves [i·2^h, (i+1)·2^h). */
  private readonly levels: Uint8Array[][] = [[]];

  static fromLeafHashes(leafHashes: readonly Uint8Array[]): MerkleTree {
    const tree = new MerkleTree();
    for (const hash of leafHashes) tree.append(hash);
    return tree;
  }

  /** The number of leaves. */
  get size(): number {
    return this.levels[0]!.length;
  }

  /** Adds a leaf hash (from `leafHash`) and returns its index. */
  append(leafHash: Uint8Array): number {
    requireHash(leafHash, `leaf hash ${this.size}`);
    const index = this.size;
    this.levels[0]!.push(leafHash.slice());
    // Each time a level gets an even count, its last two nodes complete a parent.
    for (let height = 0; this.levels[height]!.length % 2 === 0; height++) {
      const row = this.levels[height]!;
      const parent = nodeHash(row[row.length - 2]!, row[row.length - 1]!);
      if (this.levels.length === height + 1) this.levels.push([]);
      this.levels[height + 1]!.push(parent);
    }
    return index;
  }

  /** The hash of leaf `index`. */
  leafHash(index: number): Uint8Array {
    if (!isCount(index) || index >= this.size) {
      throw new MerkleProofError('MERKLE_BAD_SIZE', `leaf ${index} is not in a tree of size ${this.size}`);
    }
    return this.levels[0]![index]!.slice();
  }

  /** MTH(D[size]): the root the tree had when it held `size` leaves. */
  root(size: number = this.size): Uint8Array {
    this.requireSize(size, 'size');
    return size === 0 ? EMPTY_ROOT.slice() : this.subtreeHash(0, size);
  }

  /** PATH(index, D[size]) of RFC 9162 §2.1.3.1, from the leaf's sibling up to the root's child. */
  inclusionProof(index: number, size: number = this.size): Uint8Array[] {
    this.requireSize(size, 'size');
    if (!isCount(index) || index >= size) {
      throw new MerkleProofError('MERKLE_BAD_SIZE', `leaf ${index} is not in a tree of size ${size}`);
    }
    const path: Uint8Array[] = [];
    let [start, end] = [0, size];
    while (end - start > 1) {
      const middle = start + splitPoint(end - start);
      if (index < middle) {
        path.push(this.subtreeHash(middle, end));
        end = middle;
      } else {
        path.push(this.subtreeHash(start, middle));
        start = middle;
      }
    }
    return path.reverse();
  }

  /**
   * PROOF(size1, D[size2]) of RFC 9162 §2.1.4.1: that the tree of size1 is a prefix of the tree of
   * size2. Empty when the sizes are equal; there is no proof from the empty tree.
   */
  consistencyProof(size1: number, size2: number = this.size): Uint8Array[] {
    this.requireSize(size2, 'size2');
    if (!isCount(size1) || size1 < 1 || size1 > size2) {
      throw new MerkleProofError('MERKLE_BAD_SIZE', `no consistency proof from size ${size1} to ${size2}`);
    }
    // SUBPROOF(m, D[start:end], complete), unrolled: the old tree is D[0:size1].
    const proof: Uint8Array[] = [];
    let [start, end, complete] = [0, size2, true];
    while (end !== size1) {
      const middle = start + splitPoint(end - start);
      if (size1 <= middle) {
        proof.push(this.subtreeHash(middle, end));
        end = middle;
      } else {
        proof.push(this.subtreeHash(start, middle));
        start = middle;
        complete = false;
      }
    }
    if (!complete) proof.push(this.subtreeHash(start, end));
    return proof.reverse();
  }

  /** Throws MERKLE_BAD_SIZE unless 0 ≤ size ≤ the number of leaves. */
  private requireSize(size: number, what: string): void {
    if (!isCount(size) || size > this.size) {
      throw new MerkleProofError(
        'MERKLE_BAD_SIZE',
        `${what} ${size} is beyond a tree of ${this.size} leaves`,
      );
    }
  }

  /**
   * MTH(D[start:end]) for a subtree that the RFC's recursion visits: start is a multiple of the
   * smallest power of two ≥ end − start. Such a range splits into the perfect subtrees named by the
   * binary digits of its length, which fold from the right.
   */
  private subtreeHash(start: number, end: number): Uint8Array {
    const parts: Uint8Array[] = [];
    for (let at = start; at < end; ) {
      let height = 0;
      while (2 ** (height + 1) <= end - at) height++;
      const width = 2 ** height;
      parts.push(this.levels[height]![at / width]!);
      at += width;
    }
    let hash: Uint8Array = parts.pop()!.slice();
    while (parts.length > 0) hash = nodeHash(parts.pop()!, hash);
    return hash;
  }
}
