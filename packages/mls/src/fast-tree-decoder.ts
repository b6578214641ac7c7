import { type Node, type RatchetTree, ratchetTreeDecoder } from 'ts-mls';

/**
 * A straight-line decoder of the RFC 9420 ratchet tree encoding (`optional<Node> ratchet_tree<V>`, §12.4.3.3)
 * for the common shapes only: leaves with a basic credential, protocol version mls10, any leaf extensions,
 * parent nodes. It builds the very objects ts-mls's combinator decoder builds (same fields, byte fields as
 * views into the input), several times faster: loading a 5,000-member tree (a join's served tree, a saved
 * state's pages) spent most of its time in the library's decoder closures and their garbage.
 *
 * Anything it does not decode exactly as the library would (another credential type or protocol version, an
 * unknown node type or leaf source, a presence octet other than 0 or 1, an 8-byte length, truncated or
 * trailing bytes, a blank last node) makes it answer `undefined`, and `decodeRatchetTreeBytes` then hands the
 * input to the library's decoder, which gives the library's result or error. fast-tree-decoder.property.test.ts
 * checks both against each other on generated trees and on damaged bytes.
 */
export function fastRatchetTree(bytes: Uint8Array): RatchetTree | undefined {
  const reader = new Reader(bytes);
  const end = reader.vectorEnd(bytes.length);
  if (end !== bytes.length) return undefined;
  const tree: (Node | undefined)[] = [];
  while (reader.at < end) {
    const presence = reader.u8(end);
    if (presence === 0) {
      tree.push(undefined);
      continue;
    }
    if (presence !== 1) return undefined;
    const node = readNode(reader, end);
    if (node === undefined) return undefined;
    tree.push(node);
  }
  if (reader.failed || tree.length === 0 || tree[tree.length - 1] === undefined) return undefined;
  const size = 2 ** (32 - Math.clz32(tree.length)) - 1;
  while (tree.length < size) tree.push(undefined);
  return tree;
}

/**
 * A whole encoded ratchet tree: the fast decoder's result, or where it declines, the library's (its result,
 * `undefined`, or its error).
 */
export function decodeRatchetTreeBytes(bytes: Uint8Array): RatchetTree | undefined {
  const fast = fastRatchetTree(bytes);
  if (fast !== undefined) return fast;
  const decoded = ratchetTreeDecoder(bytes, 0);
  return decoded === undefined || decoded[1] !== bytes.length ? undefined : decoded[0];
}

const BASIC_CREDENTIAL = 1;
const MLS10 = 1;

function readNode(r: Reader, limit: number): Node | undefined {
  const nodeType = r.u8(limit);
  if (nodeType === 2) {
    const hpkePublicKey = r.data(limit);
    const parentHash = r.data(limit);
    const listEnd = r.vectorEnd(limit);
    if (listEnd < 0 || (listEnd - r.at) % 4 !== 0) return undefined;
    const unmergedLeaves = new Array<number>((listEnd - r.at) / 4);
    for (let k = 0; k < unmergedLeaves.length; k++) unmergedLeaves[k] = r.u32(listEnd);
    if (r.failed) return undefined;
    return { nodeType, parent: { hpkePublicKey, parentHash, unmergedLeaves } } as Node;
  }
  if (nodeType !== 1) return undefined;
  const hpkePublicKey = r.data(limit);
  const signaturePublicKey = r.data(limit);
  if (r.u16(limit) !== BASIC_CREDENTIAL) return undefined;
  const credential = { credentialType: BASIC_CREDENTIAL, identity: r.data(limit) };
  const versions = r.u16s(limit);
  if (versions === undefined || versions.some((v) => v !== MLS10)) return undefined;
  const ciphersuites = r.u16s(limit);
  const extensionTypes = r.u16s(limit);
  const proposals = r.u16s(limit);
  const credentials = r.u16s(limit);
  if (ciphersuites === undefined || extensionTypes === undefined || proposals === undefined) return undefined;
  if (credentials === undefined) return undefined;
  const capabilities = { versions, ciphersuites, extensions: extensionTypes, proposals, credentials };
  const leafNodeSource = r.u8(limit);
  let lifetime: object | undefined;
  let parentHash: Uint8Array | undefined;
  if (leafNodeSource === 1) {
    const notBefore = r.u64(limit);
    const notAfter = r.u64(limit);
    lifetime = { notBefore, notAfter };
  } else if (leafNodeSource === 3) parentHash = r.data(limit);
  else if (leafNodeSource !== 2) return undefined;
  const extensionsEnd = r.vectorEnd(limit);
  if (extensionsEnd < 0) return undefined;
  const extensions: { extensionType: number; extensionData: Uint8Array }[] = [];
  while (r.at < extensionsEnd && !r.failed) {
    const extensionType = r.u16(extensionsEnd);
    extensions.push({ extensionType, extensionData: r.data(extensionsEnd) });
  }
  const signature = r.data(limit);
  if (r.failed) return undefined;
  // One object literal per leaf source, all fields at once: an object built by spreading or by adding
  // fields later can fall back to a dictionary, several times the size (a 5,000-leaf tree held ~9 MB).
  const leaf =
    leafNodeSource === 1
      ? {
          hpkePublicKey,
          signaturePublicKey,
          credential,
          capabilities,
          leafNodeSource,
          lifetime,
          extensions,
          signature,
        }
      : leafNodeSource === 3
        ? {
            hpkePublicKey,
            signaturePublicKey,
            credential,
            capabilities,
            leafNodeSource,
            parentHash,
            extensions,
            signature,
          }
        : {
            hpkePublicKey,
            signaturePublicKey,
            credential,
            capabilities,
            leafNodeSource,
            extensions,
            signature,
          };
  return { nodeType, leaf } as unknown as Node;
}

/** Reads forward through the input; any read past its limit sets `failed` (and returns a dummy value). */
class Reader {
  at = 0;
  failed = false;

  constructor(private readonly b: Uint8Array) {}

  u8(limit: number): number {
    if (this.at + 1 > limit) return this.fail();
    return this.b[this.at++]!;
  }

  u16(limit: number): number {
    if (this.at + 2 > limit) return this.fail();
    const b = this.b;
    const value = (b[this.at]! << 8) | b[this.at + 1]!;
    this.at += 2;
    return value;
  }

  u32(limit: number): number {
    if (this.at + 4 > limit) return this.fail();
    const b = this.b;
    const at = this.at;
    this.at += 4;
    return b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
  }

  u64(limit: number): bigint {
    if (this.at + 8 > limit) {
      this.fail();
      return 0n;
    }
    const high = this.u32(limit);
    const low = this.u32(limit);
    return (BigInt(high) << 32n) | BigInt(low);
  }

  /** The end of a variable-length vector starting here (its length read), or -1 when it overruns `limit`. */
  vectorEnd(limit: number): number {
    if (this.at >= limit) return this.fail(-1);
    const b = this.b;
    const first = b[this.at]!;
    const prefix = first >> 6;
    let length: number;
    if (prefix === 0) {
      length = first & 0x3f;
      this.at += 1;
    } else if (prefix === 1) {
      if (this.at + 2 > limit) return this.fail(-1);
      length = ((first & 0x3f) << 8) | b[this.at + 1]!;
      this.at += 2;
    } else if (prefix === 2) {
      if (this.at + 4 > limit) return this.fail(-1);
      length = ((first & 0x3f) << 24) | (b[this.at + 1]! << 16) | (b[this.at + 2]! << 8) | b[this.at + 3]!;
      this.at += 4;
    } else return this.fail(-1);
    if (this.at + length > limit) return this.fail(-1);
    return this.at + length;
  }

  /** A variable-length byte string, as a view into the input (as the library's decoder gives it). */
  data(limit: number): Uint8Array {
    const end = this.vectorEnd(limit);
    if (end < 0) return new Uint8Array(0);
    const out = this.b.subarray(this.at, end);
    this.at = end;
    return out;
  }

  /** Passes over a variable-length byte string (as `data` reads it): where its content starts (-1: it overruns). */
  skip(limit: number): number {
    const end = this.vectorEnd(limit);
    if (end < 0) return -1;
    const start = this.at;
    this.at = end;
    return start;
  }

  /** Passes over a vector of uint16 (as `u16s` reads it): where its content starts (-1: `u16s` would decline it). */
  skipU16s(limit: number): number {
    const end = this.vectorEnd(limit);
    if (end < 0 || (end - this.at) % 2 !== 0) {
      this.failed = true;
      return -1;
    }
    const start = this.at;
    this.at = end;
    return start;
  }

  /** A variable-length vector of uint16 (undefined when its length is odd or it overruns). */
  u16s(limit: number): number[] | undefined {
    const end = this.vectorEnd(limit);
    if (end < 0 || (end - this.at) % 2 !== 0) {
      this.failed = true;
      return undefined;
    }
    // Sized up front: an array grown by push from empty reserves ~17 slots, and a leaf's capability lists
    // (mostly 1–5 entries; 5 lists a leaf, 5,000 leaves) held most of a decoded tree's memory.
    const out = new Array<number>((end - this.at) / 2);
    for (let k = 0; k < out.length; k++) out[k] = this.u16(end);
    return out;
  }

  private fail(value = 0): number {
    this.failed = true;
    this.at = Number.MAX_SAFE_INTEGER;
    return value;
  }
}

/** Numbers `scanNode` writes per node (see there). */
export const NODE_SHAPE = 7;

/**
 * Checks, without decoding it, that `bytes[start, end)` is a one-node ratchet tree that `fastRatchetTree` decodes
 * (the same grammar, the same limits), and records where its keys lie: at `out[at…at+6]` the node type, the start and
 * end of its HPKE key, and for a leaf the start and end of its signature key and of its supported credential types
 * (a list of uint16), all as offsets into `bytes`. Answers the node type (1 leaf, 2 parent), or 0 when
 * `fastRatchetTree` would decline the bytes (then decode them instead: the library may still read them, or say
 * why not). Loading saved state makes lazy nodes of what it accepts (lazy-tree.ts).
 */
export function scanNode(bytes: Uint8Array, start: number, end: number, out: Int32Array, at: number): number {
  const r = new Reader(bytes);
  r.at = start;
  const treeEnd = r.vectorEnd(end);
  if (treeEnd !== end || r.u8(end) !== 1) return 0;
  const nodeType = r.u8(end);
  if (nodeType === 2) {
    const hpkeStart = r.skip(end);
    const hpkeEnd = r.at;
    r.skip(end);
    const listEnd = r.vectorEnd(end);
    if (listEnd < 0 || (listEnd - r.at) % 4 !== 0) return 0;
    r.at = listEnd;
    if (r.failed || r.at !== end) return 0;
    out[at] = nodeType;
    out[at + 1] = hpkeStart;
    out[at + 2] = hpkeEnd;
    return nodeType;
  }
  if (nodeType !== 1) return 0;
  const hpkeStart = r.skip(end);
  const hpkeEnd = r.at;
  const sigStart = r.skip(end);
  const sigEnd = r.at;
  if (r.u16(end) !== BASIC_CREDENTIAL) return 0;
  r.skip(end);
  const versionsEnd = r.vectorEnd(end);
  if (versionsEnd < 0 || (versionsEnd - r.at) % 2 !== 0) return 0;
  while (r.at < versionsEnd) if (r.u16(versionsEnd) !== MLS10) return 0;
  for (let list = 0; list < 3; list++) if (r.skipU16s(end) < 0) return 0;
  const credentialsStart = r.skipU16s(end);
  if (credentialsStart < 0) return 0;
  const credentialsEnd = r.at;
  const leafNodeSource = r.u8(end);
  if (leafNodeSource === 1) {
    r.u64(end);
    r.u64(end);
  } else if (leafNodeSource === 3) r.skip(end);
  else if (leafNodeSource !== 2) return 0;
  const extensionsEnd = r.vectorEnd(end);
  if (extensionsEnd < 0) return 0;
  while (r.at < extensionsEnd && !r.failed) {
    r.u16(extensionsEnd);
    r.skip(extensionsEnd);
  }
  r.skip(end);
  if (r.failed || r.at !== end) return 0;
  out[at] = nodeType;
  out[at + 1] = hpkeStart;
  out[at + 2] = hpkeEnd;
  out[at + 3] = sigStart;
  out[at + 4] = sigEnd;
  out[at + 5] = credentialsStart;
  out[at + 6] = credentialsEnd;
  return nodeType;
}
