import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leafHash, rootFromLeafHashes } from './merkle-hash.ts';
import {
  consistencyProof,
  inclusionProof,
  MerkleProofError,
  verifyConsistency,
  verifyInclusion,
} from './merkle-proofs.ts';

const vectors = fileURLToPath(new URL('../../../../../shared/merkle-test-vectors/', import.meta.url));
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith('.json') ? [path] : [];
  });
}

/** Runs `check`; true when it accepted, false when it threw the typed error (anything else fails the test). */
function accepts(check: () => void): boolean {
  try {
    check();
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(MerkleProofError);
    return false;
  }
}

// The eight leaves of RFC 6962's reference test (see the vectors' README).
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => leafHash(hex(h)));

describe('RFC 6962 test vectors (transparency-dev/merkle)', () => {
  const inclusion = files(join(vectors, 'inclusion'));
  const consistency = files(join(vectors, 'consistency'));

  it('has the vectors', () => {
    expect(inclusion.length).toBeGreaterThan(50);
    expect(consistency.length).toBeGreaterThan(50);
  });

  it.each(inclusion.map((f) => [f.slice(vectors.length), f]))('inclusion %s', (_name, file) => {
    const v = JSON.parse(readFileSync(file, 'utf8'));
    const ok = accepts(() =>
      verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), (v.proof ?? []).map(b64), b64(v.root)),
    );
    expect(ok).toBe(!v.wantErr);
  });

  it.each(consistency.map((f) => [f.slice(vectors.length), f]))('consistency %s', (_name, file) => {
    const v = JSON.parse(readFileSync(file, 'utf8'));
    const ok = accepts(() =>
      verifyConsistency(v.size1, v.size2, (v.proof ?? []).map(b64), b64(v.root1), b64(v.root2)),
    );
    expect(ok).toBe(!v.wantErr);
  });

  it('computes the reference tree head and reproduces the happy-path proofs', () => {
    expect(Buffer.from(rootFromLeafHashes(LEAVES)).toString('base64')).toBe(
      'XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=',
    );
    const incl = JSON.parse(readFileSync(join(vectors, 'inclusion/1/happy-path.json'), 'utf8'));
    expect(
      inclusionProof(LEAVES.slice(0, incl.treeSize), incl.leafIdx).map((h) =>
        Buffer.from(h).toString('base64'),
      ),
    ).toEqual(incl.proof);
    const cons = JSON.parse(readFileSync(join(vectors, 'consistency/1/happy-path.json'), 'utf8'));
    expect(
      consistencyProof(LEAVES.slice(0, cons.size2), cons.size1).map((h) => Buffer.from(h).toString('base64')),
    ).toEqual(cons.proof);
  });
});

describe('proofs (property)', () => {
  const tree = fc
    .array(fc.uint8Array({ maxLength: 8 }), { minLength: 1, maxLength: 40 })
    .map((data) => data.map(leafHash));

  it('every generated inclusion proof verifies, and any bit flip or truncation is refused', () => {
    fc.assert(
      fc.property(tree, fc.nat(), fc.nat(), (leaves, i, flip) => {
        const index = i % leaves.length;
        const root = rootFromLeafHashes(leaves);
        const proof = inclusionProof(leaves, index);
        verifyInclusion(index, leaves.length, leaves[index]!, proof, root);
        if (proof.length > 0) {
          const bad = proof.map((h) => h.slice());
          const at = flip % (bad.length * 32);
          bad[Math.floor(at / 32)]![at % 32]! ^= 1 << (flip % 8);
          expect(accepts(() => verifyInclusion(index, leaves.length, leaves[index]!, bad, root))).toBe(false);
          expect(
            accepts(() => verifyInclusion(index, leaves.length, leaves[index]!, proof.slice(1), root)),
          ).toBe(false);
        }
      }),
    );
  });

  it('every generated consistency proof verifies between any two sizes, and tampering is refused', () => {
    fc.assert(
      fc.property(tree, fc.nat(), fc.nat(), (leaves, a, flip) => {
        const size1 = 1 + (a % leaves.length);
        const root1 = rootFromLeafHashes(leaves.slice(0, size1));
        const root2 = rootFromLeafHashes(leaves);
        const proof = consistencyProof(leaves, size1);
        verifyConsistency(size1, leaves.length, proof, root1, root2);
        const badRoot = root1.slice();
        badRoot[flip % 32]! ^= 1;
        expect(accepts(() => verifyConsistency(size1, leaves.length, proof, badRoot, root2))).toBe(false);
        if (proof.length > 0)
          expect(
            accepts(() => verifyConsistency(size1, leaves.length, proof.slice(0, -1), root1, root2)),
          ).toBe(false);
      }),
    );
  });
});
