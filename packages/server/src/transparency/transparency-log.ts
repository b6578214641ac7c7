import {
  consistencyProof,
  encodeLeaf,
  inclusionProof,
  leafHash,
  type PublicLeaf,
  rootFromLeafHashes,
  signCheckpoint,
  verifierKeyString,
  equalBytes,
} from '@courier/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { Clock } from '../deps.ts';
import type { Storage } from '../storage/ports.ts';

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
 */
export class TransparencyLog {
  constructor(
    private readonly storage: Storage,
    private readonly identity: LogIdentity,
    private readonly clock: Clock,
  ) {}

  get verifierKey(): string {
    return verifierKeyString(this.identity.keyName, ed25519.getPublicKey(this.identity.privateKey));
  }

  async append(leaf: PublicLeaf): Promise<{ index: number; checkpoint: string }> {
    const text = encodeLeaf(leaf);
    return this.storage.transaction(async (tx) => {
      await tx.transparencyLog.lock();
      const hashes = await tx.transparencyLog.leafHashes();
      const index = hashes.length;
      const hash = leafHash(utf8.encode(text));
      await tx.transparencyLog.append({
        idx: index,
        leaf: text,
        leafHash: hash,
        createdAt: this.clock.now(),
      });
      hashes.push(hash);
      const checkpoint = await this.sign(tx.transparencyLog, hashes);
      return { index, checkpoint };
    });
  }

  /** Re-signs the current tree (at least daily, so a stale checkpoint is visible). */
  async resign(): Promise<string> {
    return this.storage.transaction(async (tx) => {
      await tx.transparencyLog.lock();
      return this.sign(tx.transparencyLog, await tx.transparencyLog.leafHashes());
    });
  }

  private async sign(store: Storage['transparencyLog'], hashes: Uint8Array[]): Promise<string> {
    const rootHash = rootFromLeafHashes(hashes);
    const now = this.clock.now();
    const note = signCheckpoint(
      {
        origin: this.identity.origin,
        size: hashes.length,
        rootHash,
        extensions: [`signed ${new Date(now).toISOString()}`],
      },
      { name: this.identity.keyName, privateKey: this.identity.privateKey },
    );
    await store.putCheckpoint({ size: hashes.length, rootHash, note, createdAt: now });
    return note;
  }

  /**
   * Refuses a log whose leaves no longer produce its newest checkpoint's root (rollback, fork, or
   * an edited leaf: hashes are recomputed from the leaves' text, not read back).
   */
  async verifyIntegrity(): Promise<void> {
    const latest = await this.storage.transparencyLog.latestCheckpoint();
    if (!latest) return;
    const leaves = await this.storage.transparencyLog.leaves(0, Number.MAX_SAFE_INTEGER);
    if (leaves.length < latest.size) {
      throw new LogIntegrityError(
        `the log has ${leaves.length} leaves but a checkpoint of size ${latest.size} was signed: it was rolled back`,
      );
    }
    const hashes = leaves.slice(0, latest.size).map((l) => leafHash(utf8.encode(l.leaf)));
    if (!equalBytes(rootFromLeafHashes(hashes), latest.rootHash)) {
      throw new LogIntegrityError(
        `the log's first ${latest.size} leaves do not match the signed checkpoint: it was altered or forked`,
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
    return inclusionProof((await this.storage.transparencyLog.leafHashes()).slice(0, size), index);
  }

  async consistency(from: number, to: number): Promise<Uint8Array[]> {
    return consistencyProof((await this.storage.transparencyLog.leafHashes()).slice(0, to), from);
  }
}
