import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Checkpoint, checkpointBody, openCheckpoint, signCheckpoint } from './checkpoint.ts';
import { CheckpointError } from './checkpoint-error.ts';
import { encodeBase64 } from './base64.ts';
import { noteCharacter, RFC_LEAVES } from './merkle-test-fixtures.ts';
import { MerkleTree } from './merkle-tree.ts';
import { parseSignedNote, parseVerifierKey, signNote, verifierKeyString } from './signed-note.ts';

const code = (c: string) => expect.objectContaining({ name: 'CheckpointError', code: c });
const key = ed25519.utils.randomSecretKey();
const name = 'courier.example/legal-log';
const signer = { name, privateKey: key };
const vkey = verifierKeyString(name, ed25519.getPublicKey(key));
const root = MerkleTree.fromLeafHashes(RFC_LEAVES).root();
const checkpoint: Checkpoint = {
  origin: 'courier.example/legal-log',
  size: 8,
  rootHash: root,
  extensions: [],
};
const ROOT_LINE = encodeBase64(root);
/** The first line of a note: the origin it claims (for tests that open arbitrary notes). */
const originOf = (note: string) => note.slice(0, note.indexOf('\n'));

describe('checkpoints', () => {
  it('have the C2SP shape and round-trip, with the verifier as an object or as its key string', () => {
    const note = signCheckpoint({ origin: checkpoint.origin, size: 8, rootHash: root }, signer);
    expect(note.startsWith(`courier.example/legal-log\n8\n${ROOT_LINE}\n\n\u2014 ${name} `)).toBe(true);
    expect(ROOT_LINE).toBe('XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=');
    expect(openCheckpoint(note, vkey, checkpoint.origin)).toEqual(checkpoint);
    expect(openCheckpoint(note, parseVerifierKey(vkey), checkpoint.origin)).toEqual(checkpoint);
    const withExtensions = { ...checkpoint, extensions: ['signed 2026-01-01T00:00:00.000Z', 'x'] };
    expect(openCheckpoint(signCheckpoint(withExtensions, signer), vkey, checkpoint.origin)).toEqual(
      withExtensions,
    );
  });

  it('read the C2SP example as a signed note', () => {
    const example =
      'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n';
    const { text, signatures } = parseSignedNote(example);
    expect(text).toBe(
      'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
    );
    expect(signatures.map((s) => s.name)).toEqual(['example.com/behind-the-sofa']);
    expect(() => openCheckpoint(example, vkey, 'example.com/behind-the-sofa')).toThrow(
      code('CHECKPOINT_UNKNOWN_KEY'),
    );
  });

  it('refuse another key, an altered body and an altered signature', () => {
    const other = { name, privateKey: ed25519.utils.randomSecretKey() };
    expect(() => openCheckpoint(signCheckpoint(checkpoint, other), vkey, checkpoint.origin)).toThrow(
      code('CHECKPOINT_UNKNOWN_KEY'),
    );
    const note = signCheckpoint(checkpoint, signer);
    expect(() => openCheckpoint(note.replace('\n8\n', '\n9\n'), vkey, checkpoint.origin)).toThrow(
      code('CHECKPOINT_BAD_SIGNATURE'),
    );
    const sigAt = note.lastIndexOf(' ') + 10;
    const flipped = note.slice(0, sigAt) + (note[sigAt] === 'A' ? 'B' : 'A') + note.slice(sigAt + 1);
    expect(() => openCheckpoint(flipped, vkey, checkpoint.origin)).toThrow(code('CHECKPOINT_BAD_SIGNATURE'));
    // Signed by both: opens with either key; the other signature is ignored.
    const both = signNote(checkpointBody(checkpoint), [other, signer]);
    expect(openCheckpoint(both, vkey, checkpoint.origin)).toEqual(checkpoint);
  });

  it('refuse a checkpoint of another log, even one signed by the same key', () => {
    const ofOtherLog = signCheckpoint({ ...checkpoint, origin: 'courier.example/other-log' }, signer);
    expect(() => openCheckpoint(ofOtherLog, vkey, checkpoint.origin)).toThrow(
      code('CHECKPOINT_WRONG_ORIGIN'),
    );
    // The comparison is exact: no case folding, no trailing space, no prefix match.
    for (const origin of [
      'Courier.example/legal-log',
      'courier.example/legal-log ',
      'courier.example/legal',
    ]) {
      expect(() => openCheckpoint(signCheckpoint(checkpoint, signer), vkey, origin)).toThrow(
        code('CHECKPOINT_WRONG_ORIGIN'),
      );
    }
  });

  it('are strict about a correctly signed but malformed body', () => {
    const malformedBodies = [
      `origin\n08\n${ROOT_LINE}\n`,
      `origin\n-1\n${ROOT_LINE}\n`,
      `origin\n+8\n${ROOT_LINE}\n`,
      `origin\n 8\n${ROOT_LINE}\n`,
      `origin\n8 \n${ROOT_LINE}\n`,
      `origin\n1e3\n${ROOT_LINE}\n`,
      `origin\n0x10\n${ROOT_LINE}\n`,
      `origin\n8.0\n${ROOT_LINE}\n`,
      `origin\n\n${ROOT_LINE}\n`,
      `origin\n9007199254740992\n${ROOT_LINE}\n`, // 2^53
      `origin\n8\n${encodeBase64(root.slice(1))}\n`,
      `origin\n8\n${encodeBase64(Uint8Array.of(...root, 0))}\n`,
      `origin\n8\n${ROOT_LINE.slice(0, -1)}\n`,
      `origin\n8\n${ROOT_LINE.slice(0, -2)}h=\n`, // the same bytes, with a padding bit set ('g' → 'h')
      `origin\n8\n${ROOT_LINE} \n`,
      `\n8\n${ROOT_LINE}\n`,
      `origin\n8\n`,
      `origin\n`,
      `origin\n8\n${ROOT_LINE}\n\nextension after an empty line\n`,
    ];
    for (const body of malformedBodies) {
      expect(() => openCheckpoint(signNote(body, signer), vkey, 'origin'), JSON.stringify(body)).toThrow(
        code('CHECKPOINT_MALFORMED'),
      );
    }
    expect(openCheckpoint(signNote(`origin\n0\n${ROOT_LINE}\n`, signer), vkey, 'origin').size).toBe(0);
    expect(
      openCheckpoint(signNote(`origin\n9007199254740991\n${ROOT_LINE}\n`, signer), vkey, 'origin').size,
    ).toBe(2 ** 53 - 1);
  });

  it('are strict about the note around the body', () => {
    const note = signCheckpoint(checkpoint, signer);
    for (const bad of [
      note.slice(0, -1),
      `${note}x`,
      `${note}\n`,
      `${note}garbage\n`,
      note.replaceAll('\n', '\r\n'),
    ]) {
      expect(() => openCheckpoint(bad, vkey, checkpoint.origin), JSON.stringify(bad)).toThrow(
        code('CHECKPOINT_MALFORMED'),
      );
    }
  });

  it('cannot be signed with a value no parser would accept', () => {
    const bad: Checkpoint[] = [
      { ...checkpoint, origin: '' },
      { ...checkpoint, origin: 'two\nlines' },
      { ...checkpoint, origin: 'tab\there' },
      { ...checkpoint, size: -1 },
      { ...checkpoint, size: 1.5 },
      { ...checkpoint, size: 2 ** 53 },
      { ...checkpoint, rootHash: root.slice(1) },
      { ...checkpoint, extensions: [''] },
      { ...checkpoint, extensions: ['a\nb'] },
    ];
    for (const c of bad)
      expect(() => signCheckpoint(c, signer), JSON.stringify(c.origin)).toThrow(CheckpointError);
    expect(() => signCheckpoint(checkpoint, { name: 'has space', privateKey: key })).toThrow(CheckpointError);
  });
});

/** `text` signed as a note, when it is a text that can be signed at all. */
function signedIfPossible(text: string): string[] {
  try {
    return [signNote(text, signer)];
  } catch {
    return [];
  }
}

describe('checkpoints (property)', () => {
  const line = fc
    .string({
      unit: fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.constant(' ')),
      minLength: 1,
    })
    .filter((s) => Array.from(s).every((c) => c.charCodeAt(0) >= 0x20));
  const anyCheckpoint = fc.record({
    origin: line,
    size: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
    rootHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    extensions: fc.array(line, { maxLength: 3 }),
  });

  it('sign then open gives back the checkpoint, and another key is refused', () => {
    fc.assert(
      fc.property(anyCheckpoint, fc.uint8Array({ minLength: 32, maxLength: 32 }), (c, otherKey) => {
        expect(openCheckpoint(signCheckpoint(c, signer), vkey, c.origin)).toEqual(c);
        const byOther = signCheckpoint(c, { name, privateKey: otherKey });
        expect(() => openCheckpoint(byOther, vkey, c.origin)).toThrow(code('CHECKPOINT_UNKNOWN_KEY'));
      }),
      { numRuns: 100 },
    );
  });

  it('the parser throws only CheckpointError, on arbitrary text and on signed arbitrary bodies', () => {
    let opened = 0;
    const body = fc
      .array(
        fc.oneof(
          fc.constantFrom('0', '08', '8', ROOT_LINE, ''),
          fc.string({ unit: noteCharacter, maxLength: 20 }),
        ),
        {
          maxLength: 6,
        },
      )
      .map((lines) => lines.map((l) => `${l}\n`).join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: noteCharacter, maxLength: 300 }), body), (text) => {
        for (const note of [text, ...signedIfPossible(text)]) {
          try {
            expect(checkpointBody(openCheckpoint(note, vkey, originOf(note)))).toBe(
              parseSignedNote(note).text,
            );
            opened++;
          } catch (error) {
            expect(error).toBeInstanceOf(CheckpointError);
          }
        }
      }),
      // One known-good body runs first, so the last assertion does not depend on chance.
      { numRuns: 2000, examples: [[`example.org/log\n8\n${ROOT_LINE}\n`]] },
    );
    expect(opened).toBeGreaterThan(0); // valid checkpoints are reached
  });
});
