/**
 * Test-only data and a literal reference model for the Merkle tests (imported by *.test.ts only;
 * it reads files with node:fs, so it must never be imported by library code).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { EMPTY_ROOT, leafHash, nodeHash } from './merkle-hash.ts';

export const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
export const fromBase64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));
export const toBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** The eight leaf inputs of RFC 6962's reference test (transparency-dev/merkle testonly). */
export const RFC_LEAF_INPUTS = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(fromHex);
export const RFC_LEAVES = RFC_LEAF_INPUTS.map(leafHash);

/** The roots of the trees over the first 0…8 reference leaves (transparency-dev/merkle testonly). */
export const RFC_ROOTS_HEX = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

/** shared/merkle-test-vectors, beside the repository (CI clones it there too). */
export const VECTORS_DIR = fileURLToPath(
  new URL('../../../../../shared/merkle-test-vectors/', import.meta.url),
);

/** Every JSON vector under `kind` (inclusion or consistency), as [path relative to VECTORS_DIR, parsed]. */
export function readVectors(kind: 'inclusion' | 'consistency'): [string, Record<string, unknown>][] {
  const walk = (dir: string): string[] =>
    readdirSync(dir)
      .sort()
      .flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? walk(path) : name.endsWith('.json') ? [path] : [];
      });
  return walk(join(VECTORS_DIR, kind)).map((path) => [
    path.slice(VECTORS_DIR.length),
    JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>,
  ]);
}

// RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 written as literally as possible: slow, obviously right.
const k = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1);

export function referenceRoot(d: readonly Uint8Array[]): Uint8Array {
  if (d.length === 0) return EMPTY_ROOT;
  if (d.length === 1) return d[0]!;
  return nodeHash(referenceRoot(d.slice(0, k(d.length))), referenceRoot(d.slice(k(d.length))));
}

export function referencePath(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const split = k(d.length);
  return m < split
    ? [...referencePath(m, d.slice(0, split)), referenceRoot(d.slice(split))]
    : [...referencePath(m - split, d.slice(split)), referenceRoot(d.slice(0, split))];
}

export function referenceProof(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  const subproof = (m: number, d: readonly Uint8Array[], b: boolean): Uint8Array[] => {
    if (m === d.length) return b ? [] : [referenceRoot(d)];
    const split = k(d.length);
    return m <= split
      ? [...subproof(m, d.slice(0, split), b), referenceRoot(d.slice(split))]
      : [...subproof(m - split, d.slice(split), false), referenceRoot(d.slice(0, split))];
  };
  return m === d.length ? [] : subproof(m, d, true);
}

/** One character for fuzzing notes: those that matter to the format, lone surrogates, or any code point. */
export const noteCharacter: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '\n',
    '\u2014',
    ' ',
    '+',
    '=',
    '/',
    'A',
    '0',
    '8',
    '\r',
    '\t',
    '\u0000',
    '\ud800',
    '\udc00',
    '\u00a0',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
