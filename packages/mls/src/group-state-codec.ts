import {
  type ClientState,
  clientStateDecoder,
  clientStateEncoder,
  type EpochReceiverData,
  encode,
  groupContextDecoder,
  groupContextEncoder,
  type Node,
  nodeTypes,
  type RatchetTree,
  ratchetTreeEncoder,
  secretTreeDecoder,
  secretTreeEncoder,
  seedTreeHashes,
  treeHashesOf,
} from 'ts-mls';
import { loadedCiphersuite } from './ciphersuite.ts';
import { decodeRatchetTreeBytes } from './fast-tree-decoder.ts';
import { LazyTree, lazyTreeOf } from './lazy-tree.ts';
import { MlsError } from './mls-error.ts';
import { type MlsGroup, wrapGroup } from './mls-group.ts';

/**
 * Format of saved group state: one version byte, then the body.
 * - Version 1: ts-mls's ClientState encoding (ts-mls 2.0.0-rc.10 as patched here). The library keeps a
 *   full copy of the ratchet tree for each of the last epochs it can still decrypt (4 by default), so at
 *   5,000 members a state held ~5 trees (≈5 MB) and took most of a second to write and read.
 * - Version 2: the ClientState without those epochs, then each epoch's receiver data
 *   with its tree stored as the nodes where it differs from the current tree (a commit changes one path
 *   and the leaves it adds or removes). On reading, the epochs' trees share the current tree's nodes.
 * - Version 3: version 2, then the tree hash of every node of the current tree. Loaded nodes are
 *   new objects the library's tree-hash memo cannot know, so without them the first commit after loading
 *   rehashed the whole tree (16,383 nodes at 5,000 members). They are public values; hashes that do not fit
 *   the tree or whose root is not the group context's tree hash are ignored (recomputed).
 * - Version 4 (written now): two parts (`GroupStateParts`), joined as [4, u32 length and the secret part
 *   without its version byte, u32 page count, each page as u32 length and bytes]. The secret part: the
 *   ClientState without the current tree (a one-leaf stand-in), the tree's length, whether hashes follow,
 *   then the older epochs as in version 2. The pages: the current tree node by node (a presence byte, the
 *   node as a one-node tree, its tree hash as in version 3), TREE_PAGE_NODES nodes a page. Each node's
 *   encoding is kept per node object (nodes are immutable and shared between epochs), so a save re-encodes
 *   only the nodes a commit replaced, and a store that keeps the parts apart writes only those that changed.
 *   Reading version 4 decodes no node up front: each becomes a lazy node of a `LazyTree` (lazy-tree.ts), decoded
 *   when first read, with the saved hashes answered by position; a commit reads the few nodes it touches.
 * Versions 1, 2 and 3 are still read.
 */
export const GROUP_STATE_VERSION = 4;

/** Nodes of the current tree per page of saved state (see `GroupStateParts`). */
export const TREE_PAGE_NODES = 32;

/**
 * A saved group cut in two, so that a store can write what changed and no more: `secrets`, the state
 * without its current tree (keys, secrets, the older epochs as differences from the current tree: a few KB),
 * and `pages`, the current ratchet tree with each node's tree hash, TREE_PAGE_NODES nodes a page (public
 * values). A message changes only `secrets`; a commit changes `secrets` and the pages that hold the nodes
 * it replaced (its path: about one page per level) and, when it adds or removes leaves, those leaves'
 * pages and the last one. `exportGroupState` is the two joined into one byte array.
 */
export interface GroupStateParts {
  readonly secrets: Uint8Array;
  readonly pages: readonly Uint8Array[];
}

/**
 * What a store writes to move a group's saved parts from what it holds to the next parts: the secret part
 * (always), the page count (pages at or beyond it are dropped: the tree shrank) and the pages whose bytes
 * changed, by index. Every other page below the count stays as stored. See `groupStateChange`.
 */
export interface GroupStateChange {
  readonly secrets: Uint8Array;
  readonly pageCount: number;
  readonly pages: ReadonlyMap<number, Uint8Array>;
}

/**
 * The change from `stored` (the parts a store holds; undefined: nothing) to `next`. A page counts as
 * unchanged when it is the same array (`exportGroupStateParts` with `stored` as its `previous` hands back
 * the previous page arrays whose nodes and hashes did not change) or has the same bytes.
 */
export function groupStateChange(
  stored: GroupStateParts | undefined,
  next: GroupStateParts,
): GroupStateChange {
  const pages = new Map<number, Uint8Array>();
  next.pages.forEach((page, i) => {
    const old = stored?.pages[i];
    if (old !== page && (old === undefined || !sameBytes(old, page))) pages.set(i, page);
  });
  return { secrets: next.secrets, pageCount: next.pages.length, pages };
}

/** The parts after a change is applied over `stored` (what a store that keeps the parts apart reads back). */
export function applyGroupStateChange(
  stored: GroupStateParts | undefined,
  change: GroupStateChange,
): GroupStateParts {
  const pages: Uint8Array[] = [];
  for (let i = 0; i < change.pageCount; i++) {
    const page = change.pages.get(i) ?? stored?.pages[i];
    if (page === undefined) throw new MlsError('MLS_MALFORMED', `tree page ${i} is neither stored nor saved`);
    pages.push(page);
  }
  for (const i of change.pages.keys())
    if (!Number.isSafeInteger(i) || i < 0 || i >= change.pageCount)
      throw new MlsError('MLS_MALFORMED', `tree page ${i} is outside the tree`);
  return { secrets: change.secrets, pages };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Serializes a group for the device's store. The bytes hold private keys: store them as secrets. */
export function exportGroupState(group: MlsGroup): Uint8Array {
  return joinGroupState(exportGroupStateParts(group));
}

/**
 * Serializes a group as its secret part and tree pages (see `GroupStateParts`). Given the parts saved
 * before (`previous`), each page whose nodes and hashes did not change is `previous`'s own array, so that
 * `groupStateChange(previous, parts)` finds the changed pages by identity.
 */
export function exportGroupStateParts(group: MlsGroup, previous?: GroupStateParts): GroupStateParts {
  const state = group.state;
  const out = new ByteWriter();
  out.u8(GROUP_STATE_VERSION);
  // The library's codec wants a tree whose last node is non-blank: a one-node stand-in, replaced on reading.
  const firstLeaf = state.ratchetTree.find((node) => node?.nodeType === nodeTypes.leaf);
  const standIn = firstLeaf === undefined ? [] : [firstLeaf];
  out.chunk(
    encode(clientStateEncoder, { ...state, ratchetTree: standIn, historicalReceiverData: new Map() }),
  );
  const { pages, withHashes } = treePages(state, previous?.pages);
  out.u32(state.ratchetTree.length);
  out.u8(withHashes ? 1 : 0);
  out.u32(state.historicalReceiverData.size);
  for (const [epoch, data] of state.historicalReceiverData) {
    out.u64(epoch);
    out.chunk(data.resumptionPsk);
    out.chunk(encode(secretTreeEncoder, data.secretTree));
    out.chunk(data.senderDataSecret);
    out.chunk(encode(groupContextEncoder, data.groupContext));
    writeTreeDiff(out, state.ratchetTree, data.ratchetTree);
  }
  return { secrets: out.bytes(), pages: [...pages] };
}

/**
 * The pages of the last tree this process saved, by tree array, with the node objects they were made
 * from: a state after a message shares its tree array (and nodes) with the state before, so saving it
 * re-uses the pages; the node-by-node identity check makes an array changed in place miss the cache.
 */
const pagesByTree = new WeakMap<
  RatchetTree,
  { nodes: RatchetTree; pages: Uint8Array[]; withHashes: boolean }
>();

/**
 * What each page array this process wrote or read was made from: its nodes (objects) and their tree
 * hashes. A page of a new tree whose nodes are the same objects with the same hashes is the same page.
 */
const pageSources = new WeakMap<
  Uint8Array,
  { nodes: RatchetTree; hashes: readonly Uint8Array[] | undefined }
>();

function treePages(
  state: ClientState,
  previous: readonly Uint8Array[] | undefined,
): { pages: Uint8Array[]; withHashes: boolean } {
  const tree = state.ratchetTree;
  const cached = pagesByTree.get(tree);
  if (
    cached !== undefined &&
    cached.nodes.length === tree.length &&
    cached.nodes.every((node, i) => node === tree[i])
  )
    return cached;
  const suite = loadedCiphersuite(state.groupContext.cipherSuite);
  const hashes = suite === undefined ? undefined : treeHashesOf(tree, suite.hash);
  const pages: Uint8Array[] = [];
  for (let first = 0, p = 0; first < tree.length; first += TREE_PAGE_NODES, p++) {
    const last = Math.min(first + TREE_PAGE_NODES, tree.length);
    const nodes = tree.slice(first, last);
    const pageHashes = hashes?.slice(first, last);
    const before = previous?.[p];
    const source = before === undefined ? undefined : pageSources.get(before);
    if (before !== undefined && source !== undefined && sameSource(source, nodes, pageHashes)) {
      pages.push(before);
      continue;
    }
    const page = new ByteWriter();
    for (let i = first; i < last; i++) {
      const node = tree[i];
      if (node === undefined) page.u8(0);
      else {
        page.u8(1);
        page.chunk(encodedNode(node));
      }
      if (hashes !== undefined) page.chunk(hashes[i]!);
    }
    const bytes = page.bytes();
    // A page read back without its sources (another process wrote it) is still the same page when its
    // bytes are.
    const made = before !== undefined && sameBytes(before, bytes) ? before : bytes;
    pageSources.set(made, { nodes, hashes: pageHashes });
    pages.push(made);
  }
  const made = { nodes: tree.slice(), pages, withHashes: hashes !== undefined };
  pagesByTree.set(tree, made);
  return made;
}

function sameSource(
  source: { nodes: RatchetTree; hashes: readonly Uint8Array[] | undefined },
  nodes: RatchetTree,
  hashes: readonly Uint8Array[] | undefined,
): boolean {
  if (source.nodes.length !== nodes.length || (source.hashes === undefined) !== (hashes === undefined))
    return false;
  for (let i = 0; i < nodes.length; i++) {
    if (source.nodes[i] !== nodes[i]) return false;
    const a = source.hashes?.[i];
    const b = hashes?.[i];
    if (a !== b && (a === undefined || b === undefined || !sameBytes(a, b))) return false;
  }
  return true;
}

/** The one byte array of a group's parts: version 4, the secret part, the pages. */
export function joinGroupState(parts: GroupStateParts): Uint8Array {
  if (parts.secrets[0] !== GROUP_STATE_VERSION) {
    if (parts.pages.length > 0) throw new MlsError('MLS_MALFORMED', 'tree pages with an older saved state');
    return parts.secrets;
  }
  const out = new ByteWriter();
  out.u8(GROUP_STATE_VERSION);
  out.chunk(parts.secrets.subarray(1));
  out.u32(parts.pages.length);
  for (const page of parts.pages) out.chunk(page);
  return out.bytes();
}

/**
 * The parts of saved group state. State saved by versions 1–3 is one part (`secrets`, no pages): a store
 * keeps it as it is until the group is next saved, in version 4.
 */
export function splitGroupState(bytes: Uint8Array): GroupStateParts {
  if (bytes[0] !== GROUP_STATE_VERSION) return { secrets: bytes, pages: [] };
  const input = new ByteReader(bytes, 1);
  const body = input.chunk();
  const secrets = new Uint8Array(body.length + 1);
  secrets[0] = GROUP_STATE_VERSION;
  secrets.set(body, 1);
  const count = input.u32();
  if (count > MAX_TREE_NODES) throw new MlsError('MLS_MALFORMED', 'more tree pages than any tree has');
  const pages: Uint8Array[] = [];
  for (let i = 0; i < count; i++) pages.push(input.chunk());
  if (!input.done()) throw new MlsError('MLS_MALFORMED', 'trailing bytes after the group state');
  return { secrets, pages };
}

/** Restores a group saved by `exportGroupState` (MLS_STATE_VERSION or MLS_MALFORMED otherwise). */
export function importGroupState(bytes: Uint8Array): MlsGroup {
  if (bytes.length === 0) throw new MlsError('MLS_MALFORMED', 'empty group state');
  return importGroupStateParts(splitGroupState(bytes));
}

/** Restores a group from its parts (`exportGroupStateParts`, or `splitGroupState` of saved bytes). */
export function importGroupStateParts(parts: GroupStateParts): MlsGroup {
  const bytes = parts.secrets;
  if (bytes.length === 0) throw new MlsError('MLS_MALFORMED', 'empty group state');
  if (bytes[0] === 1) return wrapGroup(decodeWhole(clientStateDecoder, bytes.subarray(1)));
  const version = bytes[0]!;
  if (version !== 2 && version !== 3 && version !== GROUP_STATE_VERSION) {
    throw new MlsError('MLS_STATE_VERSION', `group state version ${version} is not supported`);
  }
  try {
    const input = new ByteReader(bytes, 1);
    let state = decodeWhole(clientStateDecoder, input.chunk());
    let lazy: LazyTree | undefined;
    const hashes: Uint8Array[] = [];
    if (version >= 4) {
      if (state.ratchetTree.length !== 1)
        throw new MlsError('MLS_MALFORMED', 'a whole tree inside the saved state');
      const treeLength = input.u32();
      if (treeLength > MAX_TREE_NODES || parts.pages.length !== Math.ceil(treeLength / TREE_PAGE_NODES))
        throw new MlsError('MLS_MALFORMED', 'the saved tree pages do not fit the tree');
      // The tree is read first: the older epochs' trees are differences from it.
      const withHashes = input.u8() === 1;
      // Nodes are decoded when first read (lazy-tree.ts); only those the fast decoder declines are decoded now.
      const table = new LazyTree(parts.pages, treeLength);
      lazy = table;
      const tree = table.loaded;
      parts.pages.forEach((bytes, p) => {
        const page = new ByteReader(bytes, 0);
        const first = p * TREE_PAGE_NODES;
        const last = Math.min(first + TREE_PAGE_NODES, treeLength);
        for (let i = first; i < last; i++) {
          if (page.u8() !== 0) {
            const [start, end] = page.span();
            table.lazyNode(i, p, start, end) ?? table.place(i, decodeNode(bytes.subarray(start, end)));
          }
          // Views into the page, not copies (the decoded nodes' fields are views into it as well).
          if (withHashes) hashes.push(page.chunk());
        }
        if (!page.done()) throw new MlsError('MLS_MALFORMED', 'trailing bytes after a tree page');
        pageSources.set(bytes, {
          nodes: tree.slice(first, last),
          hashes: withHashes ? hashes.slice(first, last) : undefined,
        });
      });
      state = { ...state, ratchetTree: tree };
    }
    const epochs = input.u32();
    const historicalReceiverData = new Map<bigint, EpochReceiverData>();
    for (let i = 0; i < epochs; i++) {
      const epoch = input.u64();
      const resumptionPsk = input.chunk().slice();
      const secretTree = decodeWhole(secretTreeDecoder, input.chunk());
      const senderDataSecret = input.chunk().slice();
      const groupContext = decodeWhole(groupContextDecoder, input.chunk());
      const ratchetTree = readTreeDiff(input, state.ratchetTree);
      historicalReceiverData.set(epoch, {
        resumptionPsk,
        secretTree,
        ratchetTree,
        senderDataSecret,
        groupContext,
      });
    }
    if (version === 3) {
      const count = input.u32();
      if (count > MAX_TREE_NODES) throw new MlsError('MLS_MALFORMED', 'more tree hashes than any tree has');
      for (let i = 0; i < count; i++) hashes.push(input.chunk().slice());
    }
    if (!input.done()) throw new MlsError('MLS_MALFORMED', 'trailing bytes after the group state');
    const suite = loadedCiphersuite(state.groupContext.cipherSuite);
    if (suite !== undefined && hashes.length > 0) {
      seedTreeHashes(state.ratchetTree, hashes, state.groupContext.treeHash, suite.hash, lazy);
    }
    return wrapGroup({ ...state, historicalReceiverData });
  } catch (cause) {
    if (cause instanceof MlsError) throw cause;
    throw new MlsError('MLS_MALFORMED', 'the group state could not be decoded', { cause });
  }
}

function decodeWhole<T>(
  decoder: (b: Uint8Array, offset: number) => [T, number] | undefined,
  body: Uint8Array,
): T {
  let decoded: [T, number] | undefined;
  try {
    decoded = decoder(body, 0);
  } catch (cause) {
    throw new MlsError('MLS_MALFORMED', 'the group state could not be decoded', { cause });
  }
  if (decoded === undefined || decoded[1] !== body.length) {
    throw new MlsError('MLS_MALFORMED', 'the group state could not be decoded');
  }
  return decoded[0];
}

/** Far above the 5,000-member cap (1,048,576 leaves); a saved tree beyond it is malformed. */
const MAX_TREE_NODES = 2 ** 21 - 1;

/** An epoch's tree as its length and the nodes where it differs from `current` (by node identity). */
function writeTreeDiff(out: ByteWriter, current: RatchetTree, tree: RatchetTree): void {
  const changed: number[] = [];
  for (let i = 0; i < tree.length; i++) {
    if (tree[i] !== current[i]) changed.push(i);
  }
  out.u32(tree.length);
  out.u32(changed.length);
  for (const i of changed) {
    out.u32(i);
    const node = tree[i];
    if (node === undefined) out.u8(0);
    else {
      out.u8(1);
      out.chunk(encodedNode(node));
    }
  }
}

function readTreeDiff(input: ByteReader, current: RatchetTree): RatchetTree {
  const length = input.u32();
  const changes = input.u32();
  // Bounds before any allocation: a forged length must fail as malformed, not exhaust the heap.
  if (length > MAX_TREE_NODES || changes > length) {
    throw new MlsError('MLS_MALFORMED', 'a saved tree is larger than any group');
  }
  const tree: (Node | undefined)[] = current.slice(0, length);
  while (tree.length < length) tree.push(undefined);
  for (let c = 0; c < changes; c++) {
    const i = input.u32();
    if (i >= length) throw new MlsError('MLS_MALFORMED', 'a saved tree change is outside its tree');
    tree[i] = input.u8() === 0 ? undefined : readNode(input);
  }
  return tree;
}

/**
 * The encoding of each node object this process wrote or read, as a one-node tree (the ratchet-tree codec
 * is the library's public node encoding). Nodes are never changed in place (a commit puts new node objects
 * in a new tree array), so an entry stays right for as long as its node lives.
 */
const nodeEncodings = new WeakMap<Node, Uint8Array>();

/** @internal exported for tests: the one-node-tree encoding of a node, remembered per node object. */
export function encodedNode(node: Node): Uint8Array {
  let bytes = nodeEncodings.get(node);
  if (bytes === undefined) {
    const lazy = lazyTreeOf(node);
    if (lazy !== undefined) return lazy.table.encoding(lazy.index);
    bytes = encode(ratchetTreeEncoder, [node]);
    nodeEncodings.set(node, bytes);
  }
  return bytes;
}

function readNode(input: ByteReader): Node {
  return decodeNode(input.chunk());
}

function decodeNode(bytes: Uint8Array): Node {
  let decoded: RatchetTree | undefined;
  try {
    decoded = decodeRatchetTreeBytes(bytes);
  } catch (cause) {
    throw new MlsError('MLS_MALFORMED', 'the group state could not be decoded', { cause });
  }
  if (decoded === undefined) throw new MlsError('MLS_MALFORMED', 'the group state could not be decoded');
  const node = decoded[0];
  if (decoded.length !== 1 || node === undefined) {
    throw new MlsError('MLS_MALFORMED', 'a saved tree node could not be decoded');
  }
  // The node's own fields are views into these bytes (see fast-tree-decoder.ts), so keeping the view as its
  // encoding holds no more memory than the node does; a copy per node was most of loading a tree's garbage.
  nodeEncodings.set(node, bytes);
  return node;
}

class ByteWriter {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  u8(value: number): void {
    this.push(Uint8Array.of(value));
  }

  u32(value: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value);
    this.push(b);
  }

  u64(value: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, value);
    this.push(b);
  }

  chunk(bytes: Uint8Array): void {
    this.u32(bytes.length);
    this.push(bytes);
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.size += bytes.length;
  }
}

class ByteReader {
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private at: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.at++);
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.at);
    this.at += 4;
    return value;
  }

  u64(): bigint {
    this.need(8);
    const value = this.view.getBigUint64(this.at);
    this.at += 8;
    return value;
  }

  chunk(): Uint8Array {
    const length = this.u32();
    this.need(length);
    const out = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }

  /** Where the next chunk's bytes start and end (its length read, the reader moved past it). */
  span(): [number, number] {
    const length = this.u32();
    this.need(length);
    const start = this.at;
    this.at += length;
    return [start, this.at];
  }

  done(): boolean {
    return this.at === this.bytes.length;
  }

  private need(n: number): void {
    if (this.at + n > this.bytes.length) throw new MlsError('MLS_MALFORMED', 'the group state is truncated');
  }
}
