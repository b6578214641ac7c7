import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  openCheckpoint,
  parseVerifierKey,
  signCheckpoint,
  verifierKeyString,
} from './checkpoint.ts';
import { leafHash, rootFromLeafHashes } from './merkle-hash.ts';

const key = ed25519.utils.randomSecretKey();
const other = ed25519.utils.randomSecretKey();
const name = 'transparency.courier.example';
const verifier = parseVerifierKey(verifierKeyString(name, ed25519.getPublicKey(key)));
const root = rootFromLeafHashes([leafHash(Uint8Array.of(1)), leafHash(Uint8Array.of(2))]);
const checkpoint = { origin: 'courier.example/legal-log', size: 2, rootHash: root, extensions: [] };

describe('checkpoints (C2SP signed notes)', () => {
  it('round-trips a signed checkpoint and has the documented shape', () => {
    const note = signCheckpoint(checkpoint, { name, privateKey: key });
    expect(note).toMatch(
      /^courier\.example\/legal-log\n2\n[A-Za-z0-9+/=]{44}\n\n\u2014 transparency\.courier\.example [A-Za-z0-9+/=]+\n$/u,
    );
    expect(openCheckpoint(note, verifier)).toEqual(checkpoint);
  });

  it('refuses another key, an altered body and an altered signature', () => {
    const byOther = signCheckpoint(checkpoint, { name, privateKey: other });
    expect(() => openCheckpoint(byOther, verifier)).toThrow(
      expect.objectContaining({ code: 'CHECKPOINT_UNKNOWN_KEY' }),
    );
    const note = signCheckpoint(checkpoint, { name, privateKey: key });
    expect(() => openCheckpoint(note.replace('\n2\n', '\n3\n'), verifier)).toThrow(
      expect.objectContaining({ code: 'CHECKPOINT_BAD_SIGNATURE' }),
    );
    const sigStart = note.lastIndexOf(' ') + 10;
    const flipped = note.slice(0, sigStart) + (note[sigStart] === 'A' ? 'B' : 'A') + note.slice(sigStart + 1);
    expect(() => openCheckpoint(flipped, verifier)).toThrow(CheckpointError);
  });

  it('is strict: non-canonical sizes, short roots, trailing garbage and missing newlines are refused', () => {
    const note = signCheckpoint(checkpoint, { name, privateKey: key });
    for (const bad of [
      note.replace('\n2\n', '\n02\n'),
      note.slice(0, -1),
      `${note}x`,
      note.replace(/\n[A-Za-z0-9+/=]{44}\n/, '\nAAAA\n'),
    ]) {
      expect(() => openCheckpoint(bad, verifier)).toThrow(CheckpointError);
    }
    const wrongHash = verifierKeyString(name, ed25519.getPublicKey(key)).replace(
      /\+[0-9a-f]{8}\+/,
      '+00000000+',
    );
    expect(() => parseVerifierKey(wrongHash)).toThrow(CheckpointError);
  });

  it('never throws anything but CheckpointError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        try {
          openCheckpoint(text, verifier);
        } catch (error) {
          expect(error).toBeInstanceOf(CheckpointError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('signs and opens any checkpoint (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9./-]{0,30}$/),
        fc.nat(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(fc.stringMatching(/^[a-z0-9 ]{1,20}$/), { maxLength: 3 }),
        (origin, size, rootHash, extensions) => {
          const c = { origin, size, rootHash, extensions };
          expect(openCheckpoint(signCheckpoint(c, { name, privateKey: key }), verifier)).toEqual(c);
        },
      ),
      { numRuns: 50 },
    );
  });
});
