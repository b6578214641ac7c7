import { sha256 } from '@noble/hashes/sha2.js';
import { MerkleProofError } from './merkle-proof-error.ts';

/** RFC 6962 / RFC 9162 §2.1.1: a Merkle tree over SHA-256, so every hash has 32 bytes. */
export const HASH_SIZE = 32;

/** The hash of the empty tree, SHA-256 of the empty string. Do not mutate: copy it. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array());

/** MTH({d}) = SHA-256(0x00 || d): the hash of one leaf's data. */
export function leafHash(data: Uint8Array): Uint8Array {
  const input = new Uint8Array(data.length + 1);
  input[0] = 0x00;
  input.set(data, 1);
  return sha256(input);
}

/** SHA-256(0x01 || left || right): the hash of an interior node. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = 0x01;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return sha256(input);
}

/** Throws MERKLE_BAD_HASH unless `hash` is a 32-byte array. */
export function requireHash(hash: unknown, what: string): asserts hash is Uint8Array {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) {
    throw new MerkleProofError('MERKLE_BAD_HASH', `${what} is not a ${HASH_SIZE}-byte hash`);
  }
}

/**
 * MTH(D[n]) of RFC 9162 §2.1.1 from the leaf hashes, for any n (the empty tree included), in one
 * pass: a stack holds the perfect subtrees seen so far, at most one per height.
 */
export function rootFromLeafHashes(leaves: readonly Uint8Array[]): Uint8Array {
  const stack: { height: number; hash: Uint8Array }[] = [];
  for (const [index, leaf] of leaves.entries()) {
    requireHash(leaf, `leaf hash ${index}`);
    let node = { height: 0, hash: leaf };
    while (stack.length > 0 && stack[stack.length - 1]!.height === node.height) {
      const left = stack.pop()!;
      node = { height: node.height + 1, hash: nodeHash(left.hash, node.hash) };
    }
    stack.push(node);
  }
  // The perfect subtrees, largest first, fold from the right into the root.
  let root: Uint8Array = stack.pop()?.hash.slice() ?? EMPTY_ROOT.slice();
  while (stack.length > 0) root = nodeHash(stack.pop()!.hash, root);
  return root;
}

/** Byte equality that does not stop at the first difference. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
