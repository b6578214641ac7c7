import {
  type Checkpoint,
  CheckpointError,
  encodeLeaf,
  equalBytes,
  leafHash,
  MerkleTree,
  openCheckpoint,
  type PublicLeaf,
  signCheckpoint,
  verifierKeyString,
} from '@courier/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { Clock } from '../deps.ts';
import type { Storage } from '../storage/ports.ts';
import type { LogWitness } from './log-witness.ts';

export interface LogIdentity {
  /** The checkpoint origin line, e.g. "courier.example/legal-log". */
  origin: string;
  keyName: string;
  privateKey: Uint8Array;
}

const utf8 = new TextEncoder();

/** Thrown at start when the stored log does not match its own signed checkpoints. */
export class LogIntegrityError extends Error {
  override readonly name = 'LogIntegrityError';
}

/**
 * The append-only legal-desk log (RFC 6962 tree). Every append is a leaf and a new signed
 * checkpoint, in one transaction; the server refuses to run on a log that was rolled back or
 * forked (its leaves no longer match the newest checkpoint).
 *
 * The tree is kept in memory (a `MerkleTree`), so an append hashes O(log n) nodes instead of the
 * whole log; before each use it catches up with leaves other nodes appended (read under the log's
 * lock when appending), and after a failed transaction it is rebuilt from storage and checked
 * against the newest signed checkpoint again, so a failure never turns into a silent fork.
 */
export class TransparencyLog {
  private tree: MerkleTree | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly identity: LogIdentity,
    private readonly clock: Clock,
    /** Where the server remembers its newest checkpoint outside the database; none in unit tests. */
    private readonly witness?: LogWitness,
  ) {}

  get verifierKey(): string {
    return verifierKeyString(this.identity.keyName, ed25519.getPublicKey(this.identity.privateKey));
  }

  /** The log's name: the origin line of its checkpoints. */
  get origin(): string {
    return this.identity.origin;
  }

  /** The in-memory tree brought up to the stored log (leaf hashes recomputed from the leaves' text). */
  private async synced(store: Storage['transparencyLog'], underLock: boolean): Promise<MerkleTree> {
    const tree = this.tree ?? (await this.verifiedTree(store));
    const size = await store.size();
    // Without the lock, an append of this node may be in the tree but not yet committed: fine for
    // proofs, which name their sizes. Under the lock, fewer stored leaves means a rollback.
    if (size < tree.size && underLock) {
      throw new LogIntegrityError(
        `the log has ${size} leaves but this server saw ${tree.size}: it was rolled back`,
      );
    }
    for (const row of size > tree.size ? await store.leaves(tree.size, size) : []) {
      if (row.idx !== tree.size) {
        // A reader racing this node's own append: the tree already holds what it read.
        if (!underLock) break;
        throw new LogIntegrityError(`leaf ${tree.size} is missing from the log`);
      }
      tree.append(leafHash(utf8.encode(row.leaf)));
    }
    this.tree = tree;
    return tree;
  }

  /** Runs a write under the log's lock; a failure leaves the in-memory tree to be rebuilt. */
  private async locked<T>(work: (store: Storage['transparencyLog'], tree: MerkleTree) => Promise<T>) {
    try {
      return await this.storage.transaction(async (tx) => {
        await tx.transparencyLog.lock();
        return work(tx.transparencyLog, await this.synced(tx.transparencyLog, true));
      });
    } catch (error) {
      this.tree = undefined;
      throw error;
    }
  }

  async append(leaf: PublicLeaf): Promise<{ index: number; checkpoint: string }> {
    const text = encodeLeaf(leaf);
    const appended = await this.locked(async (store, tree) => {
      const hash = leafHash(utf8.encode(text));
      const index = tree.size;
      await store.append({ idx: index, leaf: text, leafHash: hash, createdAt: this.clock.now() });
      tree.append(hash);
      const checkpoint = await this.sign(store, tree);
      return { index, checkpoint, size: tree.size, root: tree.root(), tree };
    });
    // After the commit: the witness never runs ahead of the database.
    this.remember(appended.size, appended.root, appended.tree);
    return { index: appended.index, checkpoint: appended.checkpoint };
  }

  private remember(size: number, root: Uint8Array, tree: MerkleTree): void {
    if (size === 0) return;
    this.witness?.record(logIdentity(tree), {
      origin: this.identity.origin,
      size,
      root: Buffer.from(root).toString('base64'),
    });
  }

  /** Re-signs the current tree (at least daily, so a stale checkpoint is visible). */
  async resign(): Promise<string> {
    const signed = await this.locked(async (store, tree) => ({
      note: await this.sign(store, tree),
      size: tree.size,
      root: tree.root(),
      tree,
    }));
    this.remember(signed.size, signed.root, signed.tree);
    return signed.note;
  }

  private async sign(store: Storage['transparencyLog'], tree: MerkleTree): Promise<string> {
    const rootHash = tree.root();
    const now = this.clock.now();
    const note = signCheckpoint(
      {
        origin: this.identity.origin,
        size: tree.size,
        rootHash,
        extensions: [`signed ${new Date(now).toISOString()}`],
      },
      { name: this.identity.keyName, privateKey: this.identity.privateKey },
    );
    await store.putCheckpoint({ size: tree.size, rootHash, note, createdAt: now });
    return note;
  }

  /**
   * Refuses a log whose leaves no longer produce its newest checkpoint's root (rollback, fork, or
   * an edited leaf: hashes are recomputed from the leaves' text, not read back). The tree built
   * here is the one later appends extend.
   */
  async verifyIntegrity(): Promise<void> {
    this.tree = undefined;
    const tree = await this.verifiedTree(this.storage.transparencyLog);
    const known = tree.size > 0 ? this.witness?.read(logIdentity(tree)) : this.witness?.atLocation();
    if (known) {
      if (known.origin !== this.identity.origin) {
        throw new LogIntegrityError(
          `this server kept the log "${known.origin}", but the database holds "${this.identity.origin}"`,
        );
      }
      if (tree.size < known.size) {
        throw new LogIntegrityError(
          `the log has ${tree.size} leaves but this server signed or saw ${known.size} (${this.witness!.path}): the database was restored from an old copy or rolled back`,
        );
      }
      if (Buffer.from(tree.root(known.size)).toString('base64') !== known.root) {
        throw new LogIntegrityError(
          `the log's first ${known.size} leaves do not match the checkpoint this server signed or saw (${this.witness!.path}): it was altered or forked`,
        );
      }
    }
    this.tree = tree;
    this.remember(tree.size, tree.root(), tree);
  }

  /**
   * The whole stored log as a tree, checked against the newest signed checkpoint: its size and root
   * are read from the note after its signature is verified, never from the row's unsigned columns.
   */
  private async verifiedTree(store: Storage['transparencyLog']): Promise<MerkleTree> {
    const latest = await store.latestCheckpoint();
    const leaves = await store.leaves(0, Number.MAX_SAFE_INTEGER);
    const tree = MerkleTree.fromLeafHashes(leaves.map((l) => leafHash(utf8.encode(l.leaf))));
    if (latest) {
      const signed = this.openSigned(latest.note);
      if (leaves.length < signed.size) {
        throw new LogIntegrityError(
          `the log has ${leaves.length} leaves but a checkpoint of size ${signed.size} was signed: it was rolled back`,
        );
      }
      if (!equalBytes(tree.root(signed.size), signed.rootHash)) {
        throw new LogIntegrityError(
          `the log's first ${signed.size} leaves do not match the signed checkpoint: it was altered or forked`,
        );
      }
    }
    return tree;
  }

  /** Opens a stored checkpoint note with this server's key and origin, or stops with why not. */
  private openSigned(note: string): Checkpoint {
    try {
      return openCheckpoint(note, this.verifierKey, this.identity.origin);
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      throw new LogIntegrityError(
        `the newest stored checkpoint is not signed by this server's key for "${this.identity.origin}" (${error.message}): it was forged, or this server has another signing key: every node of a deployment needs the same keys`,
        { cause: error },
      );
    }
  }

  async latest(): Promise<string> {
    return (await this.storage.transparencyLog.latestCheckpoint())?.note ?? (await this.resign());
  }

  async leaves(start: number, end: number): Promise<{ index: number; leaf: string }[]> {
    return (await this.storage.transparencyLog.leaves(start, end)).map((l) => ({
      index: l.idx,
      leaf: l.leaf,
    }));
  }

  async inclusion(index: number, size: number): Promise<Uint8Array[]> {
    return (await this.synced(this.storage.transparencyLog, false)).inclusionProof(index, size);
  }

  async consistency(from: number, to: number): Promise<Uint8Array[]> {
    return (await this.synced(this.storage.transparencyLog, false)).consistencyProof(from, to);
  }
}

/** A log's identity for the witness: its first leaf's hash (the root of size 1), base64. */
function logIdentity(tree: MerkleTree): string {
  return Buffer.from(tree.root(1)).toString('base64');
}
