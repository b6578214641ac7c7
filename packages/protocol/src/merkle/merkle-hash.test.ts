import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, equalBytes, leafHash, nodeHash, rootFromLeafHashes } from './merkle-hash.ts';
import { MerkleProofError } from './merkle-proof-error.ts';
import { RFC_LEAVES, RFC_ROOTS_HEX, toBase64, toHex } from './merkle-test-fixtures.ts';

const ascii = (text: string) => new TextEncoder().encode(text);

describe('RFC 6962 hashes', () => {
  it('match the reference values of transparency-dev/merkle', () => {
    expect(toHex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(leafHash(new Uint8Array()))).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    expect(toHex(leafHash(ascii('L123456')))).toBe(
      '395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56',
    );
    expect(toHex(nodeHash(ascii('N123'), ascii('N456')))).toBe(
      'aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb',
    );
  });

  it('separate leaves from nodes (no second preimage by re-reading a node as a leaf)', () => {
    const [a, b] = [leafHash(ascii('a')), leafHash(ascii('b'))];
    const node = nodeHash(a, b);
    expect(equalBytes(leafHash(Uint8Array.of(...a, ...b)), node)).toBe(false);
    expect(equalBytes(nodeHash(b, a), node)).toBe(false);
  });
});

describe('rootFromLeafHashes', () => {
  it('gives the reference root for every size 0…8, and the README tree head for 8', () => {
    RFC_ROOTS_HEX.forEach((root, size) => {
      expect(toHex(rootFromLeafHashes(RFC_LEAVES.slice(0, size)))).toBe(root);
    });
    expect(toBase64(rootFromLeafHashes(RFC_LEAVES))).toBe('XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=');
  });

  it('refuses a leaf hash that is not 32 bytes', () => {
    for (const bad of [new Uint8Array(31), new Uint8Array(33), new Uint8Array()]) {
      expect(() => rootFromLeafHashes([RFC_LEAVES[0]!, bad])).toThrow(
        expect.objectContaining({ name: 'MerkleProofError', code: 'MERKLE_BAD_HASH' }),
      );
    }
    expect(() => rootFromLeafHashes([new Uint8Array(1)])).toThrow(MerkleProofError);
  });

  it('hands out copies: changing a returned root changes neither EMPTY_ROOT nor a leaf', () => {
    const empty = rootFromLeafHashes([]);
    empty[0]! ^= 0xff;
    expect(toHex(EMPTY_ROOT)).toBe(RFC_ROOTS_HEX[0]);
    const leaves = [RFC_LEAVES[0]!.slice()];
    rootFromLeafHashes(leaves)[0]! ^= 0xff;
    expect(toHex(leaves[0]!)).toBe(RFC_ROOTS_HEX[1]);
  });
});

describe('equalBytes', () => {
  it('compares length and every byte', () => {
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0))).toBe(false);
    expect(equalBytes(new Uint8Array(), new Uint8Array())).toBe(true);
  });
});
