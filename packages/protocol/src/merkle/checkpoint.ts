import { decodeBase64, encodeBase64 } from './base64.ts';
import { CheckpointError } from './checkpoint-error.ts';
import { HASH_SIZE } from './merkle-hash.ts';
import {
  type NoteSigner,
  type NoteVerifier,
  openSignedNote,
  parseVerifierKey,
  signNote,
} from './signed-note.ts';

// Kept so `index.ts` can go on importing these from here; their home is checkpoint-error.ts and
// signed-note.ts.
export { CheckpointError } from './checkpoint-error.ts';
export type { NoteSigner, NoteVerifier } from './signed-note.ts';
export { keyHash, parseVerifierKey, verifierKeyString } from './signed-note.ts';

/**
 * A C2SP tlog checkpoint (https://c2sp.org/tlog-checkpoint): the origin line, the tree size, the
 * base64 root hash and optional extension lines, each ending in a newline, in a signed note.
 */
export interface Checkpoint {
  origin: string;
  /** The number of leaves; at most 2^53 − 1 here (the format allows more). */
  size: number;
  /** The RFC 6962 root of the tree at `size`: 32 bytes. */
  rootHash: Uint8Array;
  /** Opaque, non-empty lines after the root. */
  extensions: string[];
}

/** What `signCheckpoint` needs: a checkpoint whose extension lines may be left out. */
export type CheckpointFields = Omit<Checkpoint, 'extensions'> & { extensions?: readonly string[] };

const malformed = (message: string) => new CheckpointError('CHECKPOINT_MALFORMED', message);
/** A line of a checkpoint: non-empty, and the note format already forbids control characters. */
const isLine = (line: unknown): line is string =>
  typeof line === 'string' && line.length > 0 && !line.includes('\n');
const CANONICAL_DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/** The note text of a checkpoint; throws CHECKPOINT_MALFORMED for a value no parser would accept. */
export function checkpointBody(checkpoint: CheckpointFields): string {
  const { origin, size, rootHash, extensions = [] } = checkpoint;
  if (!isLine(origin)) throw malformed('the origin must be one non-empty line');
  if (!Number.isSafeInteger(size) || size < 0) throw malformed('the tree size must be a whole number');
  if (!(rootHash instanceof Uint8Array) || rootHash.length !== HASH_SIZE) {
    throw malformed(`the root hash must have ${HASH_SIZE} bytes`);
  }
  if (!extensions.every(isLine)) throw malformed('an extension must be one non-empty line');
  return [origin, String(size), encodeBase64(rootHash), ...extensions].map((line) => `${line}\n`).join('');
}

/** Reads a checkpoint's note text, strictly. Only for text whose signature was verified. */
function parseCheckpointBody(text: string): Checkpoint {
  // The text ends in a newline, so the last piece of the split is empty.
  const lines = text.split('\n');
  lines.pop();
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (origin === undefined || sizeText === undefined || rootText === undefined) {
    throw malformed('a checkpoint has an origin, a size and a root hash line');
  }
  if (!isLine(origin)) throw malformed('the origin line is empty');
  const size = Number(sizeText);
  if (!CANONICAL_DECIMAL.test(sizeText) || !Number.isSafeInteger(size)) {
    throw malformed('the tree size is not a canonical decimal number below 2^53');
  }
  const rootHash = decodeBase64(rootText);
  if (rootHash?.length !== HASH_SIZE) throw malformed(`the root hash is not base64 of ${HASH_SIZE} bytes`);
  if (!extensions.every(isLine)) throw malformed('an extension line is empty');
  return { origin, size, rootHash, extensions };
}

/** Signs a checkpoint and returns the signed note (body, blank line, one signature line per signer). */
export function signCheckpoint(
  checkpoint: CheckpointFields,
  signer: NoteSigner | readonly NoteSigner[],
): string {
  return signNote(checkpointBody(checkpoint), signer);
}

/**
 * Verifies a signed checkpoint of the log named `origin` against the trusted key (a `NoteVerifier`
 * or its verifier key string) and returns it. The signature is checked before the body is read, and
 * a checkpoint of another log (another origin line, even under the same key) is refused. Throws
 * only CheckpointError: CHECKPOINT_MALFORMED, CHECKPOINT_UNKNOWN_KEY (no signature by that key),
 * CHECKPOINT_BAD_SIGNATURE or CHECKPOINT_WRONG_ORIGIN.
 */
export function openCheckpoint(note: string, verifier: NoteVerifier | string, origin: string): Checkpoint {
  const key = typeof verifier === 'string' ? parseVerifierKey(verifier) : verifier;
  const checkpoint = parseCheckpointBody(openSignedNote(note, key));
  if (checkpoint.origin !== origin) {
    throw new CheckpointError(
      'CHECKPOINT_WRONG_ORIGIN',
      `the checkpoint is of the log "${checkpoint.origin}", not of "${origin}"`,
    );
  }
  return checkpoint;
}
