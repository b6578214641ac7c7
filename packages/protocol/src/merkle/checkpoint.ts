import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { HASH_SIZE } from './merkle-hash.ts';

/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) in a C2SP signed note
 * (https://c2sp.org/signed-note), signed with Ed25519. Parsing is strict and throws only
 * CheckpointError, whatever the input.
 */
export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  extensions: string[];
}

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly code: 'CHECKPOINT_MALFORMED' | 'CHECKPOINT_UNKNOWN_KEY' | 'CHECKPOINT_BAD_SIGNATURE',
    message: string,
  ) {
    super(message);
  }
}

export interface NoteSigner {
  name: string;
  privateKey: Uint8Array;
}

export interface NoteVerifier {
  name: string;
  keyHash: Uint8Array;
  publicKey: Uint8Array;
}

const utf8 = new TextEncoder();
const ALG_ED25519 = 0x01;
const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
function unb64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0)
    throw new CheckpointError('CHECKPOINT_MALFORMED', 'bad base64');
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
const validName = (name: string) => name.length > 0 && !/[\s+]/u.test(name);

/** The 4-byte key id of signed-note: SHA-256(name || "\n" || 0x01 || public key)[:4]. */
export function keyHash(name: string, publicKey: Uint8Array): Uint8Array {
  const nameBytes = utf8.encode(name);
  const input = new Uint8Array(nameBytes.length + 2 + publicKey.length);
  input.set(nameBytes, 0);
  input[nameBytes.length] = 0x0a;
  input[nameBytes.length + 1] = ALG_ED25519;
  input.set(publicKey, nameBytes.length + 2);
  return sha256(input).slice(0, 4);
}

/** `<name>+<hex key hash>+<base64(0x01 || public key)>`, the verifier key format of signed-note. */
export function verifierKeyString(name: string, publicKey: Uint8Array): string {
  const hash = Array.from(keyHash(name, publicKey), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${name}+${hash}+${b64(Uint8Array.of(ALG_ED25519, ...publicKey))}`;
}

export function parseVerifierKey(text: string): NoteVerifier {
  const match =
    typeof text === 'string' ? text.match(/^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/u) : null;
  if (!match) throw new CheckpointError('CHECKPOINT_MALFORMED', 'not a verifier key');
  const [, name, hashHex, keyText] = match as unknown as [string, string, string, string];
  const key = unb64(keyText);
  if (key.length !== 33 || key[0] !== ALG_ED25519)
    throw new CheckpointError('CHECKPOINT_MALFORMED', 'not an Ed25519 verifier key');
  const publicKey = key.slice(1);
  const expected = keyHash(name, publicKey);
  if (Array.from(expected, (b) => b.toString(16).padStart(2, '0')).join('') !== hashHex) {
    throw new CheckpointError('CHECKPOINT_MALFORMED', 'the key hash does not match the key');
  }
  return { name, keyHash: expected, publicKey };
}

export function checkpointBody(c: Checkpoint): string {
  if (!c.origin || c.origin.includes('\n')) throw new CheckpointError('CHECKPOINT_MALFORMED', 'bad origin');
  if (!Number.isSafeInteger(c.size) || c.size < 0)
    throw new CheckpointError('CHECKPOINT_MALFORMED', 'bad size');
  if (c.rootHash.length !== HASH_SIZE) throw new CheckpointError('CHECKPOINT_MALFORMED', 'bad root hash');
  if (c.extensions.some((e) => e.length === 0 || e.includes('\n')))
    throw new CheckpointError('CHECKPOINT_MALFORMED', 'bad extension');
  return [c.origin, String(c.size), b64(c.rootHash), ...c.extensions].map((l) => `${l}\n`).join('');
}

/** Signs a checkpoint: the note text, body then one signature line. */
export function signCheckpoint(c: Checkpoint, signer: NoteSigner): string {
  if (!validName(signer.name)) throw new CheckpointError('CHECKPOINT_MALFORMED', 'bad key name');
  const body = checkpointBody(c);
  const publicKey = ed25519.getPublicKey(signer.privateKey);
  const signature = ed25519.sign(utf8.encode(body), signer.privateKey);
  return `${body}\n\u2014 ${signer.name} ${b64(Uint8Array.of(...keyHash(signer.name, publicKey), ...signature))}\n`;
}

function parseBody(body: string): Checkpoint {
  const lines = body.split('\n');
  // The body ends with a newline, so the last split element is empty.
  if (lines.length < 4 || lines.pop() !== '')
    throw new CheckpointError('CHECKPOINT_MALFORMED', 'a checkpoint has at least three lines');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (!origin || /^\s|\s$/.test(origin)) throw new CheckpointError('CHECKPOINT_MALFORMED', 'bad origin line');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw new CheckpointError('CHECKPOINT_MALFORMED', 'bad tree size');
  }
  const rootHash = unb64(rootText);
  if (rootHash.length !== HASH_SIZE) throw new CheckpointError('CHECKPOINT_MALFORMED', 'bad root hash');
  if (extensions.some((e) => e.length === 0))
    throw new CheckpointError('CHECKPOINT_MALFORMED', 'empty extension line');
  return { origin, size: Number(sizeText), rootHash, extensions };
}

/** Verifies a signed checkpoint against a verifier key and returns it; throws CheckpointError. */
export function openCheckpoint(note: string, verifier: NoteVerifier): Checkpoint {
  if (typeof note !== 'string') throw new CheckpointError('CHECKPOINT_MALFORMED', 'not text');
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n'))
    throw new CheckpointError('CHECKPOINT_MALFORMED', 'not a signed note');
  const body = note.slice(0, split + 1);
  const signatures = note.slice(split + 2, -1).split('\n');
  const checkpoint = parseBody(body);
  let known = false;
  for (const line of signatures) {
    const match = line.match(/^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/u);
    if (!match) throw new CheckpointError('CHECKPOINT_MALFORMED', 'bad signature line');
    const [, name, sig] = match;
    const bytes = unb64(sig!);
    if (
      name !== verifier.name ||
      bytes.length < 4 ||
      !bytes.slice(0, 4).every((b, i) => b === verifier.keyHash[i])
    )
      continue;
    known = true;
    if (bytes.length === 68 && ed25519.verify(bytes.slice(4), utf8.encode(body), verifier.publicKey))
      return checkpoint;
  }
  throw known
    ? new CheckpointError('CHECKPOINT_BAD_SIGNATURE', 'the signature does not verify')
    : new CheckpointError('CHECKPOINT_UNKNOWN_KEY', 'no signature by the expected key');
}
