import { type GroupStateParts, splitGroupState } from '@courier/mls';
import { CourierError } from '@courier/protocol';
import { sha256 } from '@noble/hashes/sha2.js';

/**
 * A device's own commit, saved until the server accepts it, as what it changes from the chat's stored
 * state: the new secret part, the tree's page count and only the pages the commit changed (its path,
 * and the leaves it added or removed), not the whole state (~0.8 MB at 1,000 members, for a commit
 * that changes a few KB). A digest of the stored pages it builds on is kept with it, so that it is never
 * read over other pages (a pending commit over a tree that moved on is an error, not a wrong state).
 *
 * Bytes: 0xC5, u32 page count, u32 secret length, secret part, 32-byte SHA-256 of the unchanged stored
 * pages (in order), u32 changed pages, then each as u32 index, u32 length, bytes (big-endian). A pending
 * commit saved whole (exportGroupState bytes, before this format) reads as it did.
 *
 * Marked 0xC6, the same bytes are followed by the submission the server is sent (u32 length and the
 * commit message, u32 length and the Welcome, 0 for none), so that a device that stopped before it knew
 * the server's answer submits the same commit again after a restart: the server answers a commit it
 * already accepted as a duplicate (same client message id), accepts one it never got, or refuses one
 * that lost its epoch.
 */
const MARK = 0xc5;
const MARK_WITH_SUBMISSION = 0xc6;

/** What is sent to the server for a commit (its ratchet tree, for Adds, is read from the state). */
export interface PendingSubmission {
  commit: Uint8Array;
  welcome?: Uint8Array;
}

function malformed(detail: string): CourierError {
  return new CourierError('MLS_MALFORMED', { message: `The saved pending commit ${detail}.` });
}

/** The digest of the base pages a pending commit keeps (those below its page count it did not change). */
function baseDigest(base: GroupStateParts, pageCount: number, changed: ReadonlySet<number>): Uint8Array {
  const hash = sha256.create();
  const length = new Uint8Array(4);
  for (let i = 0; i < pageCount; i++) {
    if (changed.has(i)) continue;
    const page = base.pages[i];
    if (page === undefined) throw malformed(`needs tree page ${i}, which the stored state does not have`);
    new DataView(length.buffer).setUint32(0, page.length);
    hash.update(length);
    hash.update(page);
  }
  return hash.digest();
}

/**
 * The bytes of a pending commit whose result is `next`, over the stored state `base`, with the
 * submission that makes it when one is given.
 */
export function encodePendingCommit(
  base: GroupStateParts,
  next: GroupStateParts,
  submission?: PendingSubmission,
): Uint8Array {
  const changed = new Map<number, Uint8Array>();
  next.pages.forEach((page, i) => {
    const old = base.pages[i];
    if (old !== page && (old === undefined || !sameBytes(old, page))) changed.set(i, page);
  });
  const digest = baseDigest(base, next.pages.length, new Set(changed.keys()));
  let size = 1 + 4 + 4 + next.secrets.length + 32 + 4;
  for (const page of changed.values()) size += 8 + page.length;
  if (submission) size += 8 + submission.commit.length + (submission.welcome?.length ?? 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  out[at++] = submission ? MARK_WITH_SUBMISSION : MARK;
  view.setUint32(at, next.pages.length);
  view.setUint32(at + 4, next.secrets.length);
  at += 8;
  out.set(next.secrets, at);
  at += next.secrets.length;
  out.set(digest, at);
  at += 32;
  view.setUint32(at, changed.size);
  at += 4;
  for (const [i, page] of changed) {
    view.setUint32(at, i);
    view.setUint32(at + 4, page.length);
    out.set(page, at + 8);
    at += 8 + page.length;
  }
  if (submission) {
    for (const part of [submission.commit, submission.welcome ?? new Uint8Array(0)]) {
      view.setUint32(at, part.length);
      out.set(part, at + 4);
      at += 4 + part.length;
    }
  }
  return out;
}

/**
 * The state a pending commit leads to, read over the stored state `base` it was saved against
 * (MLS_MALFORMED when the bytes are damaged or the stored pages are not those it was saved over).
 */
export function readPendingCommit(bytes: Uint8Array, base: GroupStateParts): GroupStateParts {
  if (bytes[0] !== MARK && bytes[0] !== MARK_WITH_SUBMISSION) return splitGroupState(bytes);
  const { secrets, pageCount, digest, changed } = readPendingBytes(bytes);
  if (!sameBytes(baseDigest(base, pageCount, new Set(changed.keys())), digest))
    throw malformed('was saved over other tree pages than those stored');
  const pages: Uint8Array[] = [];
  for (let i = 0; i < pageCount; i++) pages.push(changed.get(i) ?? base.pages[i]!);
  return { secrets, pages };
}

/**
 * The submission saved with a pending commit, or undefined for one saved without it (before the
 * submission was kept). MLS_MALFORMED when the bytes are damaged.
 */
export function readPendingSubmission(bytes: Uint8Array): PendingSubmission | undefined {
  if (bytes[0] !== MARK_WITH_SUBMISSION) return undefined;
  return readPendingBytes(bytes).submission;
}

/** The fields of a pending commit in the 0xC5 or 0xC6 format, checked for shape. */
function readPendingBytes(bytes: Uint8Array): {
  secrets: Uint8Array;
  pageCount: number;
  digest: Uint8Array;
  changed: Map<number, Uint8Array>;
  submission?: PendingSubmission;
} {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 1;
  const need = (n: number) => {
    if (at + n > bytes.length) throw malformed('is cut short');
  };
  need(8);
  const pageCount = view.getUint32(at);
  const secretLength = view.getUint32(at + 4);
  at += 8;
  need(secretLength + 36);
  const secrets = bytes.slice(at, at + secretLength);
  at += secretLength;
  const digest = bytes.subarray(at, at + 32);
  at += 32;
  const count = view.getUint32(at);
  at += 4;
  if (count > pageCount) throw malformed('changes more pages than its tree has');
  const changed = new Map<number, Uint8Array>();
  for (let n = 0; n < count; n++) {
    need(8);
    const i = view.getUint32(at);
    const length = view.getUint32(at + 4);
    at += 8;
    need(length);
    if (i >= pageCount || changed.has(i)) throw malformed(`has a wrong page index ${i}`);
    changed.set(i, bytes.slice(at, at + length));
    at += length;
  }
  let submission: PendingSubmission | undefined;
  if (bytes[0] === MARK_WITH_SUBMISSION) {
    const part = () => {
      need(4);
      const length = view.getUint32(at);
      at += 4;
      need(length);
      at += length;
      return bytes.slice(at - length, at);
    };
    const commit = part();
    const welcome = part();
    if (commit.length === 0) throw malformed('has an empty commit');
    submission = welcome.length > 0 ? { commit, welcome } : { commit };
  }
  if (at !== bytes.length) throw malformed('has trailing bytes');
  return { secrets, pageCount, digest, changed, ...(submission ? { submission } : {}) };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
