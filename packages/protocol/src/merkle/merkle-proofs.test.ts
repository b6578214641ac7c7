import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leafHash } from './merkle-hash.ts';
import {
  consistencyProof,
  inclusionProof,
  MerkleProofError,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from './merkle-proofs.ts';
import { fromBase64, RFC_LEAVES, readVectors, toBase64, toHex } from './merkle-test-fixtures.ts';
import { MerkleTree } from './merkle-tree.ts';

/** True when `check` accepts; false when it throws MerkleProofError (anything else fails the test). */
function accepts(check: () => void): boolean {
  try {
    check();
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(MerkleProofError);
    return false;
  }
}

const proofOf = (value: unknown) => ((value as string[] | null) ?? []).map(fromBase64);

describe('transparency-dev/merkle vectors (shared/merkle-test-vectors)', () => {
  const inclusion = readVectors('inclusion');
  const consistency = readVectors('consistency');

  it('are all there', () => {
    expect(inclusion.length).toBe(98);
    expect(consistency.length).toBe(98);
  });

  it.each(inclusion)('inclusion %s', (_path, v) => {
    const ok = accepts(() =>
      verifyInclusion(
        v.leafIdx as number,
        v.treeSize as number,
        fromBase64(v.leafHash as string),
        proofOf(v.proof),
        fromBase64(v.root as string),
      ),
    );
    expect(ok).toBe(!v.wantErr);
  });

  it.each(consistency)('consistency %s', (_path, v) => {
    const ok = accepts(() =>
      verifyConsistency(
        v.size1 as number,
        v.size2 as number,
        proofOf(v.proof),
        fromBase64(v.root1 as string),
        fromBase64(v.root2 as string),
      ),
    );
    expect(ok).toBe(!v.wantErr);
  });

  it('are reproduced by our proof generation for every happy path over the reference leaves', () => {
    const happy = (list: typeof inclusion) =>
      list.filter(([path]) => /^\w+\/\d+\/happy-path\.json$/.test(path));
    expect(happy(inclusion).length).toBe(5);
    for (const [, v] of happy(inclusion)) {
      const leaves = RFC_LEAVES.slice(0, v.treeSize as number);
      const index = v.leafIdx as number;
      expect(toBase64(leaves[index]!)).toBe(v.leafHash);
      expect(toBase64(MerkleTree.fromLeafHashes(leaves).root())).toBe(v.root);
      expect(inclusionProof(leaves, index).map(toBase64)).toEqual(v.proof ?? []);
    }
    expect(happy(consistency).length).toBe(5);
    for (const [, v] of happy(consistency)) {
      const tree = MerkleTree.fromLeafHashes(RFC_LEAVES);
      expect(toBase64(tree.root(v.size1 as number))).toBe(v.root1);
      expect(toBase64(tree.root(v.size2 as number))).toBe(v.root2);
      const leaves = RFC_LEAVES.slice(0, v.size2 as number);
      expect(consistencyProof(leaves, v.size1 as number).map(toBase64)).toEqual(v.proof ?? []);
    }
  });
});

describe('verification errors', () => {
  const tree = MerkleTree.fromLeafHashes(RFC_LEAVES);
  const code = (c: string) => expect.objectContaining({ name: 'MerkleProofError', code: c });

  it('name what is wrong', () => {
    const proof = tree.inclusionProof(2);
    expect(() => verifyInclusion(2, 8, RFC_LEAVES[2]!, proof, tree.root(7))).toThrow(
      code('MERKLE_ROOT_MISMATCH'),
    );
    expect(() => verifyInclusion(2, 8, RFC_LEAVES[2]!, proof.slice(1), tree.root())).toThrow(
      code('MERKLE_BAD_PROOF'),
    );
    expect(() => verifyInclusion(2, 8, RFC_LEAVES[2]!, [...proof, proof[0]!], tree.root())).toThrow(
      code('MERKLE_BAD_PROOF'),
    );
    expect(() => verifyInclusion(2, 8, RFC_LEAVES[2]!.slice(1), proof, tree.root())).toThrow(
      code('MERKLE_BAD_HASH'),
    );
    expect(() => verifyInclusion(2, 8, RFC_LEAVES[2]!, proof, tree.root().slice(1))).toThrow(
      code('MERKLE_BAD_HASH'),
    );
    for (const [index, size] of [
      [8, 8],
      [-1, 8],
      [0.5, 8],
      [Number.NaN, 8],
      [0, 2 ** 53],
    ] as const) {
      expect(() => rootFromInclusionProof(index, size, RFC_LEAVES[0]!, [])).toThrow(code('MERKLE_BAD_SIZE'));
    }
    const c = tree.consistencyProof(3);
    expect(() => verifyConsistency(3, 8, c, tree.root(3), tree.root(7))).toThrow(
      code('MERKLE_ROOT_MISMATCH'),
    );
    expect(() => verifyConsistency(3, 8, c, tree.root(2), tree.root())).toThrow(code('MERKLE_ROOT_MISMATCH'));
    expect(() => verifyConsistency(3, 8, [...c, c[0]!], tree.root(3), tree.root())).toThrow(
      code('MERKLE_BAD_PROOF'),
    );
    expect(() => verifyConsistency(3, 8, c.slice(1), tree.root(3), tree.root())).toThrow(
      code('MERKLE_BAD_PROOF'),
    );
    expect(() => verifyConsistency(8, 3, c, tree.root(), tree.root(3))).toThrow(code('MERKLE_BAD_SIZE'));
    expect(() => verifyConsistency(0, 3, c, tree.root(0), tree.root(3))).toThrow(code('MERKLE_BAD_SIZE'));
  });

  it('follow a large tree size beyond 32 bits (index arithmetic is not limited to int32)', () => {
    // Leaf 2^40 of a tree of 2^40 + 1 leaves: its path is one hash, the root of the first 2^40.
    const left = leafHash(Uint8Array.of(1));
    const leaf = leafHash(Uint8Array.of(2));
    const root = rootFromInclusionProof(2 ** 40, 2 ** 40 + 1, leaf, [left]);
    expect(toHex(root)).toBe(toHex(MerkleTree.fromLeafHashes([left, leaf]).root()));
    expect(() => rootFromInclusionProof(2 ** 40, 2 ** 40 + 1, leaf, [left, left])).toThrow(MerkleProofError);
  });
});

/** A tree of distinct leaves (the index is part of each leaf) with a size and an index in it. */
const treeAndSizes = fc
  .tuple(fc.array(fc.uint8Array({ maxLength: 8 }), { minLength: 1, maxLength: 70 }), fc.nat(), fc.nat())
  .map(([data, a, b]) => {
    const leaves = data.map((d, i) => leafHash(Uint8Array.of(i, ...d)));
    const size = 1 + (a % leaves.length);
    return { tree: MerkleTree.fromLeafHashes(leaves), leaves, size, index: b % size };
  });

/** Copies `hashes` with one bit flipped, chosen by `at` among all their bits. */
function flipBit(hashes: Uint8Array[], at: number): Uint8Array[] {
  const copy = hashes.map((h) => h.slice());
  const bit = at % (copy.length * 256);
  copy[Math.floor(bit / 256)]![Math.floor(bit / 8) % 32]! ^= 1 << (bit % 8);
  return copy;
}

describe('proofs (property)', () => {
  it('every inclusion proof verifies; a flipped bit, a dropped, added or moved hash, or another index fails', () => {
    fc.assert(
      fc.property(treeAndSizes, fc.nat(), fc.nat(), ({ tree, leaves, size, index }, at, other) => {
        const root = tree.root(size);
        const proof = tree.inclusionProof(index, size);
        const leaf = leaves[index]!;
        verifyInclusion(index, size, leaf, proof, root);
        const [badLeaf, badRoot, ...badProof] = flipBit([leaf, root, ...proof], at);
        expect(accepts(() => verifyInclusion(index, size, badLeaf!, badProof, badRoot!))).toBe(false);
        const drop = at % (proof.length + 1);
        if (drop < proof.length) {
          const shorter = proof.filter((_, i) => i !== drop);
          expect(accepts(() => verifyInclusion(index, size, leaf, shorter, root))).toBe(false);
          expect(accepts(() => verifyInclusion(index, size, leaf, [...proof, proof[drop]!], root))).toBe(
            false,
          );
        }
        if (proof.length >= 2) {
          const rotated = [...proof.slice(1), proof[0]!];
          expect(accepts(() => verifyInclusion(index, size, leaf, rotated, root))).toBe(false);
        }
        const otherIndex = other % size;
        if (otherIndex !== index) {
          expect(accepts(() => verifyInclusion(otherIndex, size, leaf, proof, root))).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('every consistency proof verifies; a flipped bit or a dropped or added hash fails', () => {
    fc.assert(
      fc.property(treeAndSizes, fc.nat(), ({ tree, size, index }, at) => {
        const size1 = index + 1; // 1 ≤ size1 ≤ size
        const [root1, root2] = [tree.root(size1), tree.root(size)];
        const proof = tree.consistencyProof(size1, size);
        verifyConsistency(size1, size, proof, root1, root2);
        const [bad1, bad2, ...badProof] = flipBit([root1, root2, ...proof], at);
        expect(accepts(() => verifyConsistency(size1, size, badProof, bad1!, bad2!))).toBe(false);
        if (proof.length > 0) {
          const drop = at % proof.length;
          const shorter = proof.filter((_, i) => i !== drop);
          expect(accepts(() => verifyConsistency(size1, size, shorter, root1, root2))).toBe(false);
        }
        expect(accepts(() => verifyConsistency(size1, size, [...proof, root1], root1, root2))).toBe(false);
        expect(accepts(() => verifyConsistency(size1, size, [root1, ...proof], root1, root2))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but MerkleProofError, whatever the arguments', () => {
    const size = fc.oneof(fc.integer({ min: -2, max: 40 }), fc.double(), fc.constant(2 ** 53));
    const hash = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 }));
    const hashes = fc.array(hash, { maxLength: 8 });
    fc.assert(
      fc.property(size, size, hash, hash, hashes, (a, b, x, y, proof) => {
        accepts(() => verifyInclusion(a, b, x, proof, y));
        accepts(() => verifyConsistency(a, b, proof, x, y));
      }),
      { numRuns: 2000 },
    );
  });
});
