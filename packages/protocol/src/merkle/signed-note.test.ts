import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from './checkpoint-error.ts';
import { fromBase64, noteCharacter, toHex } from './merkle-test-fixtures.ts';
import {
  isValidKeyName,
  keyHash,
  MAX_NOTE_SIGNATURES,
  openSignedNote,
  parseSignedNote,
  parseVerifierKey,
  signNote,
  verifierKeyString,
} from './signed-note.ts';

const code = (c: string) => expect.objectContaining({ name: 'CheckpointError', code: c });

// The example of https://c2sp.org/signed-note.
const SPEC_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const SPEC_NOTE =
  'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

// Interoperability data from golang.org/x/mod/sumdb/note's tests (Go's reference implementation).
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SEED = fromBase64('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz').slice(1);
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG =
  '\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG =
  '\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

describe('signed notes: published examples', () => {
  it('opens the C2SP example with its verifier key', () => {
    const verifier = parseVerifierKey(SPEC_VKEY);
    expect(verifier.name).toBe('example.com/foo');
    expect(toHex(verifier.keyHash)).toBe('530d903a');
    expect(verifierKeyString(verifier.name, verifier.publicKey)).toBe(SPEC_VKEY);
    expect(openSignedNote(SPEC_NOTE, verifier)).toBe('This is an example message.\n');
    expect(() => openSignedNote(SPEC_NOTE.replace('example message', 'example massage'), verifier)).toThrow(
      code('CHECKPOINT_BAD_SIGNATURE'),
    );
  });

  it("signs byte for byte as Go's note package does, and opens its two-signature note with either key", () => {
    expect(signNote(TEXT, { name: 'PeterNeumann', privateKey: PETER_SEED })).toBe(`${TEXT}\n${PETER_SIG}`);
    expect(verifierKeyString('PeterNeumann', ed25519.getPublicKey(PETER_SEED))).toBe(PETER_VKEY);
    const note = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    expect(openSignedNote(note, parseVerifierKey(PETER_VKEY))).toBe(TEXT);
    expect(openSignedNote(note, parseVerifierKey(ENOCH_VKEY))).toBe(TEXT);
    const { signatures } = parseSignedNote(note);
    expect(signatures.map((s) => [s.name, toHex(s.keyHash), s.signature.length])).toEqual([
      ['PeterNeumann', 'c74f20a3', 64],
      ['EnochRoot', 'af0cfe78', 64],
    ]);
  });

  it('refuses every truncation and every one-character change of a verifier key', () => {
    for (let i = 0; i < PETER_VKEY.length; i++) {
      for (let j = i + 1; j <= PETER_VKEY.length; j++) {
        if (i === 0 && j === PETER_VKEY.length) continue;
        expect(() => parseVerifierKey(PETER_VKEY.slice(i, j))).toThrow(CheckpointError);
      }
      const changed =
        PETER_VKEY.slice(0, i) + String.fromCharCode(PETER_VKEY.charCodeAt(i) + 1) + PETER_VKEY.slice(i + 1);
      expect(() => parseVerifierKey(changed)).toThrow(CheckpointError);
    }
    // A 33-byte key and an unknown algorithm, each with a key ID that matches (from Go's tests).
    expect(() =>
      parseVerifierKey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=='),
    ).toThrow(code('CHECKPOINT_MALFORMED'));
    expect(() =>
      parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'),
    ).toThrow(code('CHECKPOINT_MALFORMED'));
  });
});

describe('signed notes: rules', () => {
  const peter = parseVerifierKey(PETER_VKEY);
  const good = `${TEXT}\n${PETER_SIG}`;

  it('ignores signatures by unknown keys, even ones sharing the name or the key ID', () => {
    const sameName = PETER_SIG.replace('x08go', 'AAAAA');
    const sameId = PETER_SIG.replace('PeterNeumann', 'PeterNeumann2');
    expect(openSignedNote(`${TEXT}\n${sameName}${sameId}${PETER_SIG}`, peter)).toBe(TEXT);
    expect(() => openSignedNote(`${TEXT}\n${sameName}${sameId}${ENOCH_SIG}`, peter)).toThrow(
      code('CHECKPOINT_UNKNOWN_KEY'),
    );
  });

  it("refuses a note whose signature by the trusted key fails, even next to others' valid ones", () => {
    const broken = `${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`; // 67 bytes of signature
    expect(() => openSignedNote(`${TEXT}\n${ENOCH_SIG}${broken}`, peter)).toThrow(
      code('CHECKPOINT_BAD_SIGNATURE'),
    );
    const flipped = PETER_SIG.replace('x08go/ZJ', 'x08go/ZK');
    expect(() => openSignedNote(`${TEXT}\n${flipped}`, peter)).toThrow(code('CHECKPOINT_BAD_SIGNATURE'));
  });

  it('keeps blank lines inside the text: the last blank line separates the signatures', () => {
    const text = 'Ognuno sta solo\n\ned \u00e8 subito sera.\n\n';
    const note = signNote(text, { name: 'PeterNeumann', privateKey: PETER_SEED });
    expect(parseSignedNote(note).text).toBe(text);
    expect(openSignedNote(note, peter)).toBe(text);
  });

  it('accepts 100 signatures and refuses 101, and refuses a key signing twice', () => {
    const others = (n: number) =>
      Array.from({ length: n }, (_, i) => PETER_SIG.replace('PeterNeumann', `witness${i}`)).join('');
    expect(openSignedNote(`${TEXT}\n${others(MAX_NOTE_SIGNATURES - 1)}${PETER_SIG}`, peter)).toBe(TEXT);
    expect(() => parseSignedNote(`${TEXT}\n${others(MAX_NOTE_SIGNATURES)}${PETER_SIG}`)).toThrow(
      code('CHECKPOINT_MALFORMED'),
    );
    expect(() => parseSignedNote(`${TEXT}\n${PETER_SIG}${PETER_SIG}`)).toThrow(code('CHECKPOINT_MALFORMED'));
  });

  it('refuses malformed notes', () => {
    const bad = [
      TEXT,
      `${TEXT}\n`,
      good.slice(0, -1),
      `\u0001${good}`,
      `\r${good}`,
      good.replace('\n', '\r\n'),
      good.replace('you', 'y\tou'),
      `\ud800${good}`,
      good.replace('is.', 'is.\udc00'),
      `${TEXT}\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
      `${TEXT}\n\u2014 Bad+Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
      `${good}Unexpected line.\n`,
      `${good}trailing garbage`,
      good.replace('\u2014 ', '- '),
      good.replace('\u2014 ', '\u2014'),
      good.replace('Neumann ', 'Neumann  '),
      good.replace('AM=\n', 'AM\n'),
      good.replace('AM=\n', 'AN=\n'), // non-canonical base64
      `${TEXT}\n\u2014 PeterNeumann x08g\n`, // a key ID and no signature
      `\n${PETER_SIG}`, // no text, so no blank line before the signatures
    ];
    for (const note of bad)
      expect(() => openSignedNote(note, peter), JSON.stringify(note)).toThrow(code('CHECKPOINT_MALFORMED'));
  });

  it('checks key names and what it is asked to sign', () => {
    for (const name of ['', 'a b', 'a+b', 'a\u00a0b', 'a\u2003b', 'a\nb', 'a\u0000b', 'a\u0085b']) {
      expect(isValidKeyName(name), JSON.stringify(name)).toBe(false);
      expect(() => signNote(TEXT, { name, privateKey: PETER_SEED })).toThrow(code('CHECKPOINT_MALFORMED'));
    }
    expect(isValidKeyName('example.com/log-\u00e9')).toBe(true);
    expect(() => signNote('no final newline', { name: 'a', privateKey: PETER_SEED })).toThrow(
      CheckpointError,
    );
    expect(() => signNote('tab\there\n', { name: 'a', privateKey: PETER_SEED })).toThrow(CheckpointError);
    expect(() => signNote(TEXT, { name: 'a', privateKey: new Uint8Array(31) })).toThrow(CheckpointError);
    expect(() => signNote(TEXT, [])).toThrow(CheckpointError);
    expect(toHex(keyHash('PeterNeumann', ed25519.getPublicKey(PETER_SEED)))).toBe('c74f20a3');
  });
});

describe('signed notes (property)', () => {
  const key = ed25519.utils.randomSecretKey();
  const verifier = parseVerifierKey(verifierKeyString('log.example/a', ed25519.getPublicKey(key)));

  it('signs and opens any valid text', () => {
    const line = fc
      .string({
        unit: fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.constant('\n')),
      })
      .map((s) =>
        Array.from(s)
          .filter((c) => c === '\n' || c.charCodeAt(0) >= 0x20)
          .join(''),
      );
    fc.assert(
      fc.property(line, (body) => {
        const text = `${body}\n`;
        expect(openSignedNote(signNote(text, { name: verifier.name, privateKey: key }), verifier)).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('throws only CheckpointError on arbitrary text and on any edit of a valid note', () => {
    const valid = signNote(TEXT, { name: verifier.name, privateKey: key });
    const edited = fc.tuple(fc.nat(), fc.nat({ max: 3 }), noteCharacter).map(([at, kind, char]) => {
      const i = at % (valid.length + 1);
      if (kind === 0) return valid.slice(0, i) + valid.slice(i + 1);
      if (kind === 1) return valid.slice(0, i) + char + valid.slice(i);
      if (kind === 2) return valid.slice(0, i) + char + valid.slice(i + 1);
      return valid.slice(0, i);
    });
    const text = fc.oneof(fc.string({ unit: noteCharacter, maxLength: 300 }), edited);
    fc.assert(
      fc.property(text, (note) => {
        try {
          expect(openSignedNote(note, verifier)).toBe(TEXT);
          expect(note).toBe(valid); // only the untouched note opens
        } catch (error) {
          expect(error).toBeInstanceOf(CheckpointError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
