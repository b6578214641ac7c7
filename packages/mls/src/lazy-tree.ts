import { LAZY_NODE, type Node, nodeTypes, type RatchetTree, type SeedTable } from 'ts-mls';
import { decodeRatchetTreeBytes, NODE_SHAPE, scanNode } from './fast-tree-decoder.ts';
import { MlsError } from './mls-error.ts';

type Hash = NonNullable<SeedTable['hash']>;

/**
 * The ratchet tree of a group loaded from saved state, whose nodes are decoded when first read. Processing a commit
 * at 5,000 members reads a few dozen nodes (the committer's path and copath, the leaves it adds or removes), yet
 * decoding the whole tree on load was most of the time a stored client spent on it, and its garbage most of the
 * rest. Loading now checks each node's bytes against the decoder's grammar without building anything (`scanNode`),
 * and puts in the tree an object that holds only its node type and decodes the rest on first read of `leaf` or
 * `parent`. The patched library finds this table from any such node and asks it, by position, for the saved tree
 * hashes (`seedTreeHashes`) and for the key-uniqueness check of a new leaf (`keyConflict`), neither of which decodes.
 */
export class LazyTree implements SeedTable {
  nodes: RatchetTree | undefined = undefined;
  hashes: readonly Uint8Array[] | undefined = undefined;
  hash: Hash | undefined = undefined;
  /** The tree as loaded: the lazy nodes, and the nodes that had to be decoded on load, by position. */
  readonly loaded: (Node | undefined)[];
  private readonly shapes: Int32Array;
  private readonly source: Int32Array;
  private readonly decoded: (Node | undefined)[] = [];
  private readonly encodings: (Uint8Array | undefined)[] = [];

  constructor(
    private readonly pages: readonly Uint8Array[],
    length: number,
  ) {
    this.loaded = new Array(length);
    this.shapes = new Int32Array(length * NODE_SHAPE);
    this.source = new Int32Array(length * 3);
  }

  /**
   * The node at `index`, encoded as a one-node tree at `pages[page][start, end)`: a lazy node when the fast
   * decoder's grammar accepts the bytes, or else undefined (the caller decodes it, or reports why it cannot).
   */
  lazyNode(index: number, page: number, start: number, end: number): Node | undefined {
    const bytes = this.pages[page]!;
    const nodeType = scanNode(bytes, start, end, this.shapes, index * NODE_SHAPE);
    if (nodeType === 0) return undefined;
    this.source[index * 3] = page;
    this.source[index * 3 + 1] = start;
    this.source[index * 3 + 2] = end;
    const rec = { table: this, index };
    const node = nodeType === nodeTypes.leaf ? new LazyLeaf(rec) : new LazyParent(rec);
    this.loaded[index] = node as unknown as Node;
    return node as unknown as Node;
  }

  /** Puts a node decoded on load (not lazy) at its position. */
  place(index: number, node: Node | undefined): void {
    this.loaded[index] = node;
  }

  /** The saved encoding (a one-node tree) of the lazy node at `index`: a view into its page, the same one each time. */
  encoding(index: number): Uint8Array {
    let bytes = this.encodings[index];
    if (bytes === undefined) {
      const s = index * 3;
      bytes = this.pages[this.source[s]!]!.subarray(this.source[s + 1], this.source[s + 2]);
      this.encodings[index] = bytes;
    }
    return bytes;
  }

  /** Nodes decoded so far (lazy ones read, and those decoded on load): what a commit cost to read. */
  decodedCount(): number {
    let count = 0;
    this.loaded.forEach((node, i) => {
      if (node !== undefined && (!isLazy(node, this, i) || this.decoded[i] !== undefined)) count++;
    });
    return count;
  }

  keyConflict(
    nodeIndex: number,
    credentialType: number,
    hpkePublicKey: Uint8Array | undefined,
    signaturePublicKey: Uint8Array | undefined,
  ): 'credential' | 'hpke' | 'signature' | undefined {
    const node = this.loaded[nodeIndex];
    if (node === undefined) return undefined;
    if (!isLazy(node, this, nodeIndex))
      return nodeKeyConflict(node, credentialType, hpkePublicKey, signaturePublicKey);
    const o = nodeIndex * NODE_SHAPE;
    const bytes = this.pages[this.source[nodeIndex * 3]!]!;
    const shape = this.shapes;
    if (shape[o] === nodeTypes.leaf) {
      let supported = false;
      for (let at = shape[o + 5]!; at < shape[o + 6]!; at += 2)
        if (((bytes[at]! << 8) | bytes[at + 1]!) === credentialType) supported = true;
      if (!supported) return 'credential';
      if (hpkePublicKey !== undefined && rangeEquals(bytes, shape[o + 1]!, shape[o + 2]!, hpkePublicKey))
        return 'hpke';
      if (
        signaturePublicKey !== undefined &&
        rangeEquals(bytes, shape[o + 3]!, shape[o + 4]!, signaturePublicKey)
      )
        return 'signature';
      return undefined;
    }
    if (hpkePublicKey !== undefined && rangeEquals(bytes, shape[o + 1]!, shape[o + 2]!, hpkePublicKey))
      return 'hpke';
    return undefined;
  }

  /** @internal the node at `index`, decoded on first call (lazy nodes' `leaf` and `parent`). */
  decode(index: number): Node {
    let node = this.decoded[index];
    if (node === undefined) {
      const tree = decodeRatchetTreeBytes(this.encoding(index));
      node = tree?.[0];
      // scanNode accepted these bytes, and the fast decoder reads exactly what it accepts.
      if (tree === undefined || tree.length !== 1 || node === undefined)
        throw new MlsError('MLS_MALFORMED', 'a saved tree node could not be decoded');
      this.decoded[index] = node;
    }
    return node;
  }
}

/**
 * A lazy node: one class per node type, so that every lazy node of a type shares one shape (object literals with
 * a getter closure each got a shape of their own, and every property read on tree nodes in the library went
 * megamorphic). `leaf` and `parent` are getters on the prototype: the library reads them and never spreads a node.
 */
class LazyLeaf {
  readonly nodeType = nodeTypes.leaf;
  readonly [LAZY_NODE]: { table: LazyTree; index: number };

  constructor(rec: { table: LazyTree; index: number }) {
    this[LAZY_NODE] = rec;
  }

  get leaf(): unknown {
    const rec = this[LAZY_NODE];
    return (rec.table.decode(rec.index) as Node & { leaf: unknown }).leaf;
  }
}

class LazyParent {
  readonly nodeType = nodeTypes.parent;
  readonly [LAZY_NODE]: { table: LazyTree; index: number };

  constructor(rec: { table: LazyTree; index: number }) {
    this[LAZY_NODE] = rec;
  }

  get parent(): unknown {
    const rec = this[LAZY_NODE];
    return (rec.table.decode(rec.index) as Node & { parent: unknown }).parent;
  }
}

/** The lazy tree a node of a loaded tree belongs to, when it is one of its lazy nodes (not a copy of one). */
export function lazyTreeOf(node: Node): { table: LazyTree; index: number } | undefined {
  const rec = (node as { [LAZY_NODE]?: { table: unknown; index: number } })[LAZY_NODE];
  if (rec === undefined || !(rec.table instanceof LazyTree) || rec.table.loaded[rec.index] !== node)
    return undefined;
  return rec as { table: LazyTree; index: number };
}

function isLazy(node: Node, table: LazyTree, index: number): boolean {
  const rec = (node as { [LAZY_NODE]?: { table: unknown; index: number } })[LAZY_NODE];
  return rec !== undefined && rec.table === table && rec.index === index;
}

/** The uniqueness check of one decoded node, as the library makes it (clientState.js). */
function nodeKeyConflict(
  node: Node,
  credentialType: number,
  hpkePublicKey: Uint8Array | undefined,
  signaturePublicKey: Uint8Array | undefined,
): 'credential' | 'hpke' | 'signature' | undefined {
  if (node.nodeType === nodeTypes.leaf) {
    if (!node.leaf.capabilities.credentials.includes(credentialType as never)) return 'credential';
    if (hpkePublicKey !== undefined && sameBytes(node.leaf.hpkePublicKey, hpkePublicKey)) return 'hpke';
    if (signaturePublicKey !== undefined && sameBytes(node.leaf.signaturePublicKey, signaturePublicKey))
      return 'signature';
    return undefined;
  }
  return hpkePublicKey !== undefined && sameBytes(node.parent.hpkePublicKey, hpkePublicKey)
    ? 'hpke'
    : undefined;
}

function rangeEquals(bytes: Uint8Array, start: number, end: number, other: Uint8Array): boolean {
  if (end - start !== other.length) return false;
  for (let i = 0; i < other.length; i++) if (bytes[start + i] !== other[i]) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return rangeEquals(a, 0, a.length, b);
}
