import {
  clientStateDecoder,
  clientStateEncoder,
  decode,
  type EpochReceiverData,
  encode,
  groupContextDecoder,
  groupContextEncoder,
  type Node,
  nodeTypes,
  type RatchetTree,
  ratchetTreeDecoder,
  ratchetTreeEncoder,
  secretTreeDecoder,
  secretTreeEncoder,
  seedTreeHashes,
  treeHashesOf,
} from 'ts-mls';
import { loadedCiphersuite } from './ciphersuite.ts';
import { MlsError } from './mls-error.ts';
import { type MlsGroup, wrapGroup } from './mls-group.ts';

/**
 * Format of saved group state: one version byte, then the body.
 * - Version 1: ts-mls's ClientState encoding (ts-mls 2.0.0-rc.10 as patched here). The library keeps a
 *   full copy of the ratchet tree for each of the last epochs it can still decrypt (4 by default), so at
 *   5,000 members a state held ~5 trees (≈5 MB) and took most of a second to write and read.
 * - Version 2 (written now): the ClientState without those epochs, then each epoch's receiver data
 *   with its tree stored as the nodes where it differs from the current tree (a commit changes one path
 *   and the leaves it adds or removes). On reading, the epochs' trees share the current tree's nodes.
 * - Version 3 (written now): version 2, then the tree hash of every node of the current tree. Loaded nodes are
 *   new objects the library's tree-hash memo cannot know, so without them the first commit after loading
 *   rehashed the whole tree (16,383 nodes at 5,000 members). They are public values; hashes that do not fit
 *   the tree or whose root is not the group context's tree hash are ignored (recomputed).
 * - Version 4 (written now): version 3 with the current tree taken out of the ClientState and written node by
 *   node (a presence byte, then the node as a one-node tree). Each node's encoding is kept per node object
 *   (nodes are immutable and shared between epochs), so saving after a message re-encodes no node and
 *   saving after a commit re-encodes only the nodes it replaced: at 5,000 members a save went from encoding
 *   ~10,000 nodes (~0.1–0.5 s) to copying their bytes.
 * Versions 1, 2 and 3 are still read.
 */
export const GROUP_STATE_VERSION = 4;

/** Serializes a group for the device's store. The bytes hold private keys: store them as secrets. */
export function exportGroupState(group: MlsGroup): Uint8Array {
  const state = group.state;
  const out = new ByteWriter();
  out.u8(GROUP_STATE_VERSION);
  // The library's codec wants a tree whose last node is non-blank: a one-node stand-in, replaced on reading.
  const standIn = state.ratchetTree.filter((node) => node?.nodeType === nodeTypes.leaf).slice(0, 1);
  out.chunk(
    encode(clientStateEncoder, { ...state, ratchetTree: standIn, historicalReceiverData: new Map() }),
  );
  out.u32(state.ratchetTree.length);
  for (const node of state.ratchetTree) {
    if (node === undefined) out.u8(0);
    else {
      out.u8(1);
      out.chunk(encodedNode(node));
    }
  }
  out.u32(state.historicalReceiverData.size);
  for (const [epoch, data] of state.historicalReceiverData) {
    out.u64(epoch);
    out.chunk(data.resumptionPsk);
    out.chunk(encode(secretTreeEncoder, data.secretTree));
    out.chunk(data.senderDataSecret);
    out.chunk(encode(groupContextEncoder, data.groupContext));
    writeTreeDiff(out, state.ratchetTree, data.ratchetTree);
  }
  const suite = loadedCiphersuite(state.groupContext.cipherSuite);
  const hashes = suite === undefined ? undefined : treeHashesOf(state.ratchetTree, suite.hash);
  out.u32(hashes?.length ?? 0);
  for (const hash of hashes ?? []) out.chunk(hash);
  return out.bytes();
}

/** Restores a group saved by `exportGroupState` (MLS_STATE_VERSION or MLS_MALFORMED otherwise). */
export function importGroupState(bytes: Uint8Array): MlsGroup {
  if (bytes.length === 0) throw new MlsError('MLS_MALFORMED', 'empty group state');
  if (bytes[0] === 1) return wrapGroup(decodeWhole(clientStateDecoder, bytes.subarray(1)));
  const version = bytes[0]!;
  if (version !== 2 && version !== 3 && version !== GROUP_STATE_VERSION) {
    throw new MlsError('MLS_STATE_VERSION', `group state version ${version} is not supported`);
  }
  try {
    const input = new ByteReader(bytes, 1);
    let state = decodeWhole(clientStateDecoder, input.chunk());
    if (version >= 4) {
      if (state.ratchetTree.length !== 1)
        throw new MlsError('MLS_MALFORMED', 'a whole tree inside the saved state');
      const length = input.u32();
      if (length > MAX_TREE_NODES)
        throw new MlsError('MLS_MALFORMED', 'a saved tree is larger than any group');
      const ratchetTree: (Node | undefined)[] = new Array(length);
      for (let i = 0; i < length; i++) ratchetTree[i] = input.u8() === 0 ? undefined : readNode(input);
      state = { ...state, ratchetTree };
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
    const hashes: Uint8Array[] = [];
    if (version >= 3) {
      const count = input.u32();
      if (count > MAX_TREE_NODES) throw new MlsError('MLS_MALFORMED', 'more tree hashes than any tree has');
      for (let i = 0; i < count; i++) hashes.push(input.chunk().slice());
    }
    if (!input.done()) throw new MlsError('MLS_MALFORMED', 'trailing bytes after the group state');
    const suite = loadedCiphersuite(state.groupContext.cipherSuite);
    if (suite !== undefined && hashes.length > 0) {
      seedTreeHashes(state.ratchetTree, hashes, state.groupContext.treeHash, suite.hash);
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
    bytes = encode(ratchetTreeEncoder, [node]);
    nodeEncodings.set(node, bytes);
  }
  return bytes;
}

function readNode(input: ByteReader): Node {
  const bytes = input.chunk();
  const decoded = decodeWhole(ratchetTreeDecoder, bytes);
  const node = decoded[0];
  if (decoded.length !== 1 || node === undefined) {
    throw new MlsError('MLS_MALFORMED', 'a saved tree node could not be decoded');
  }
  nodeEncodings.set(node, bytes.slice());
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

  done(): boolean {
    return this.at === this.bytes.length;
  }

  private need(n: number): void {
    if (this.at + n > this.bytes.length) throw new MlsError('MLS_MALFORMED', 'the group state is truncated');
  }
}
