import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { decodeBase64, encodeBase64 } from './base64.ts';
import { CheckpointError } from './checkpoint-error.ts';

/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys: a text ending in a newline,
 * a blank line, then lines `— <key name> base64(4-byte key hash || signature)`.
 */

/** An Ed25519 signing key and the name its signatures carry. */
export interface NoteSigner {
  name: string;
  /** The 32-byte Ed25519 secret key. */
  privateKey: Uint8Array;
}

/** A trusted key, as read by `parseVerifierKey`. */
export interface NoteVerifier {
  name: string;
  /** The 4-byte key ID: see `keyHash`. */
  keyHash: Uint8Array;
  publicKey: Uint8Array;
}

/** One signature line, not yet verified. */
export interface NoteSignature {
  name: string;
  keyHash: Uint8Array;
  signature: Uint8Array;
}

export interface SignedNote {
  /** The signed text, ending in a newline. Meaningless until a signature on it is verified. */
  text: string;
  signatures: NoteSignature[];
}

const utf8 = new TextEncoder();
const ED25519 = 0x01;
const PUBLIC_KEY_SIZE = 32;
const SIGNATURE_SIZE = 64;
/** The spec asks verifiers to bound the signatures they read, and to accept at least 16. */
export const MAX_NOTE_SIGNATURES = 100;

const malformed = (message: string) => new CheckpointError('CHECKPOINT_MALFORMED', message);
const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** True when `text` has an ASCII control character other than newline, or is not valid UTF-16. */
function hasForbiddenCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) return true;
    if (code >= 0xdc00 && code <= 0xdfff) return true; // a low surrogate without its high half
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    }
  }
  return false;
}

/** Key names are non-empty and have no Unicode space, no plus sign and no control character. */
export function isValidKeyName(name: string): boolean {
  return (
    typeof name === 'string' && name.length > 0 && !/[\s+\u0085]/u.test(name) && !hasForbiddenCharacter(name)
  );
}

/** The key ID of signed-note for Ed25519: SHA-256(name || 0x0A || 0x01 || public key)[:4]. */
export function keyHash(name: string, publicKey: Uint8Array): Uint8Array {
  const nameBytes = utf8.encode(name);
  const input = new Uint8Array(nameBytes.length + 2 + publicKey.length);
  input.set(nameBytes, 0);
  input[nameBytes.length] = 0x0a;
  input[nameBytes.length + 1] = ED25519;
  input.set(publicKey, nameBytes.length + 2);
  return sha256(input).slice(0, 4);
}

/** `<name>+<hex key ID>+<base64(0x01 || public key)>`, the verifier key format of signed-note. */
export function verifierKeyString(name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw malformed('a key name must be non-empty, without spaces or "+"');
  if (publicKey.length !== PUBLIC_KEY_SIZE) throw malformed('an Ed25519 public key has 32 bytes');
  return `${name}+${toHex(keyHash(name, publicKey))}+${encodeBase64(Uint8Array.of(ED25519, ...publicKey))}`;
}

/** Reads a verifier key string; throws CHECKPOINT_MALFORMED unless it is a consistent Ed25519 key. */
export function parseVerifierKey(text: string): NoteVerifier {
  // The name has no "+"; base64 may.
  const match = typeof text === 'string' ? /^([^+]+)\+([0-9a-f]{8})\+(.*)$/s.exec(text) : null;
  if (!match) throw malformed('a verifier key reads <name>+<8 hex digits>+<base64 key>');
  const [, name, hashHex, keyText] = match as unknown as [string, string, string, string];
  if (!isValidKeyName(name)) throw malformed('the verifier key has an invalid key name');
  const key = decodeBase64(keyText);
  if (key?.length !== PUBLIC_KEY_SIZE + 1 || key[0] !== ED25519) {
    throw malformed('the verifier key is not an Ed25519 key');
  }
  const publicKey = key.slice(1);
  if (!ed25519.utils.isValidPublicKey(publicKey, false)) throw malformed('the Ed25519 public key is invalid');
  const expected = keyHash(name, publicKey);
  if (toHex(expected) !== hashHex) throw malformed('the key ID does not match the key');
  return { name, keyHash: expected, publicKey };
}

/** Signs `text` (which must end in a newline) and returns the signed note. */
export function signNote(text: string, signers: NoteSigner | readonly NoteSigner[]): string {
  if (typeof text !== 'string' || !text.endsWith('\n') || hasForbiddenCharacter(text)) {
    throw malformed('a note text ends in a newline and has no other control character');
  }
  const list: readonly NoteSigner[] = Array.isArray(signers) ? signers : [signers as NoteSigner];
  if (list.length === 0 || list.length > MAX_NOTE_SIGNATURES)
    throw malformed('a note needs 1 to 100 signers');
  const message = utf8.encode(text);
  const lines = list.map(({ name, privateKey }) => {
    if (!isValidKeyName(name)) throw malformed('a key name must be non-empty, without spaces or "+"');
    if (!(privateKey instanceof Uint8Array) || privateKey.length !== 32) {
      throw malformed('an Ed25519 secret key has 32 bytes');
    }
    const id = keyHash(name, ed25519.getPublicKey(privateKey));
    return `\u2014 ${name} ${encodeBase64(Uint8Array.of(...id, ...ed25519.sign(message, privateKey)))}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

function parseSignatureLine(line: string): NoteSignature {
  const space = line.indexOf(' ', 2);
  if (!line.startsWith('\u2014 ') || space < 0) throw malformed('a signature line reads "— <name> <base64>"');
  const name = line.slice(2, space);
  if (!isValidKeyName(name)) throw malformed('a signature line has an invalid key name');
  const bytes = decodeBase64(line.slice(space + 1));
  if (!bytes || bytes.length < 5) throw malformed('a signature is not base64 of a key ID and a signature');
  return { name, keyHash: bytes.slice(0, 4), signature: bytes.slice(4) };
}

/**
 * Splits a signed note into its text and signature lines, strictly: valid UTF-16 without control
 * characters but newline, a final newline, at least one well-formed signature line, and no key
 * (name and key ID) signing twice. Verifies nothing; throws only CheckpointError.
 */
export function parseSignedNote(note: string): SignedNote {
  if (typeof note !== 'string' || hasForbiddenCharacter(note)) {
    throw malformed('a signed note is text without control characters other than newline');
  }
  if (!note.endsWith('\n')) throw malformed('a signed note ends in a newline');
  const blank = note.lastIndexOf('\n\n');
  if (blank < 0 || blank + 2 === note.length)
    throw malformed('a signed note has a blank line, then signatures');
  const lines = note.slice(blank + 2, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw malformed(`more than ${MAX_NOTE_SIGNATURES} signatures`);
  const signatures = lines.map(parseSignatureLine);
  const keys = new Set(signatures.map((s) => `${s.name}+${toHex(s.keyHash)}`));
  if (keys.size !== signatures.length) throw malformed('a key signed the note twice');
  return { text: note.slice(0, blank + 1), signatures };
}

/**
 * Returns the text of a note once the verifier's signature on it checks out. Signatures by other
 * keys are ignored, as the spec requires; a failing signature by the verifier's key rejects the note.
 */
export function openSignedNote(note: string, verifier: NoteVerifier): string {
  const { text, signatures } = parseSignedNote(note);
  const ours = signatures.find(
    (s) => s.name === verifier.name && toHex(s.keyHash) === toHex(verifier.keyHash),
  );
  if (!ours) throw new CheckpointError('CHECKPOINT_UNKNOWN_KEY', `no signature by ${verifier.name}`);
  let valid = false;
  try {
    valid =
      ours.signature.length === SIGNATURE_SIZE &&
      ed25519.verify(ours.signature, utf8.encode(text), verifier.publicKey, { zip215: false });
  } catch {
    valid = false; // a malformed public key or signature point
  }
  if (!valid)
    throw new CheckpointError('CHECKPOINT_BAD_SIGNATURE', `the signature by ${verifier.name} is invalid`);
  return text;
}
