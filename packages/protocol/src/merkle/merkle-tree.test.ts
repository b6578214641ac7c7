import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leafHash, rootFromLeafHashes } from './merkle-hash.ts';
import { MerkleProofError } from './merkle-proof-error.ts';
import {
  RFC_LEAVES,
  RFC_ROOTS_HEX,
  referencePath,
  referenceProof,
  referenceRoot,
  toHex,
} from './merkle-test-fixtures.ts';
import { MerkleTree } from './merkle-tree.ts';

const hexes = (hashes: Uint8Array[]) => hashes.map(toHex);
const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => leafHash(Uint8Array.of(i >> 8, i & 255)));
const badSize = expect.objectContaining({ name: 'MerkleProofError', code: 'MERKLE_BAD_SIZE' });

describe('MerkleTree', () => {
  it('gives the reference root of every earlier size', () => {
    const tree = MerkleTree.fromLeafHashes(RFC_LEAVES);
    expect(tree.size).toBe(8);
    RFC_ROOTS_HEX.forEach((root, size) => {
      expect(toHex(tree.root(size))).toBe(root);
    });
  });

  it('agrees with the literal RFC 9162 definitions for every size, index and pair of sizes up to 40', () => {
    const leaves = leavesOf(40);
    const tree = MerkleTree.fromLeafHashes(leaves);
    for (let n = 0; n <= leaves.length; n++) {
      const d = leaves.slice(0, n);
      expect(toHex(tree.root(n))).toBe(toHex(referenceRoot(d)));
      expect(toHex(rootFromLeafHashes(d))).toBe(toHex(referenceRoot(d)));
      for (let m = 0; m < n; m++)
        expect(hexes(tree.inclusionProof(m, n))).toEqual(hexes(referencePath(m, d)));
      for (let m = 1; m <= n; m++)
        expect(hexes(tree.consistencyProof(m, n))).toEqual(hexes(referenceProof(m, d)));
    }
  });

  it('gives the same answers whether grown leaf by leaf or rebuilt from stored hashes (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.nat(), (n, a, b) => {
        const leaves = leavesOf(n);
        const grown = new MerkleTree();
        leaves.forEach((leaf, i) => {
          expect(grown.append(leaf)).toBe(i);
        });
        const rebuilt = MerkleTree.fromLeafHashes(leaves);
        const size = 1 + (a % n);
        const index = b % size;
        expect(toHex(rebuilt.root())).toBe(toHex(rootFromLeafHashes(leaves)));
        expect(toHex(rebuilt.root(size))).toBe(toHex(grown.root(size)));
        const path = hexes(referencePath(index, leaves.slice(0, size)));
        expect(hexes(rebuilt.inclusionProof(index, size))).toEqual(path);
        expect(hexes(grown.inclusionProof(index, size))).toEqual(path);
        expect(hexes(rebuilt.consistencyProof(size))).toEqual(hexes(referenceProof(size, leaves)));
        expect(hexes(grown.consistencyProof(size))).toEqual(hexes(referenceProof(size, leaves)));
        expect(toHex(rebuilt.leafHash(index))).toBe(toHex(leaves[index]!));
      }),
      { numRuns: 60 },
    );
  });

  it('hands out copies, so a caller cannot corrupt the tree', () => {
    const leaf = RFC_LEAVES[0]!.slice();
    const tree = MerkleTree.fromLeafHashes([leaf, ...RFC_LEAVES.slice(1)]);
    leaf[0]! ^= 1;
    tree.root()[0]! ^= 1;
    tree.root(1)[0]! ^= 1;
    tree.leafHash(0)[0]! ^= 1;
    for (const hash of [...tree.inclusionProof(3), ...tree.consistencyProof(4)]) hash[0]! ^= 1;
    expect(toHex(tree.root())).toBe(RFC_ROOTS_HEX[8]);
    expect(toHex(tree.root(1))).toBe(RFC_ROOTS_HEX[1]);
    expect(hexes(tree.inclusionProof(3))).toEqual(hexes(referencePath(3, RFC_LEAVES)));
  });

  it('refuses sizes and indexes outside the tree, and leaf hashes that are not 32 bytes', () => {
    const tree = MerkleTree.fromLeafHashes(RFC_LEAVES.slice(0, 5));
    expect(toHex(new MerkleTree().root())).toBe(RFC_ROOTS_HEX[0]);
    expect(() => tree.root(6)).toThrow(badSize);
    expect(() => tree.root(-1)).toThrow(badSize);
    expect(() => tree.root(1.5)).toThrow(badSize);
    expect(() => tree.root(Number.NaN)).toThrow(badSize);
    expect(() => tree.leafHash(5)).toThrow(badSize);
    expect(() => tree.inclusionProof(5)).toThrow(badSize);
    expect(() => tree.inclusionProof(3, 3)).toThrow(badSize);
    expect(() => tree.inclusionProof(0, 0)).toThrow(badSize);
    expect(() => tree.inclusionProof(0, 6)).toThrow(badSize);
    expect(() => tree.consistencyProof(0)).toThrow(badSize);
    expect(() => tree.consistencyProof(4, 3)).toThrow(badSize);
    expect(() => tree.consistencyProof(2, 6)).toThrow(badSize);
    expect(tree.consistencyProof(5)).toEqual([]);
    expect(() => tree.append(new Uint8Array(31))).toThrow(
      expect.objectContaining({ name: 'MerkleProofError', code: 'MERKLE_BAD_HASH' }),
    );
    expect(() => MerkleTree.fromLeafHashes([new Uint8Array(0)])).toThrow(MerkleProofError);
    expect(tree.size).toBe(5);
  });
});
