import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packOfLink } from '../stickers/sticker-shelf.ts';
import { readContent, writeContent } from './content-registry.ts';
import { parseStickerRef } from './sticker-content.ts';

const shortName = fc.stringMatching(/^[a-z][a-z0-9_]{2,31}$/);
const emoji = fc.constantFrom('😀', '👍🏽', '❤️', '🏳️‍🌈', '👩‍👩‍👧', '🇬🇧', '#️⃣');
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('sticker content', () => {
  it('round-trips any valid reference, shown as a message', () => {
    fc.assert(
      fc.property(
        shortName,
        fc.integer({ min: 1, max: 1_000_000 }),
        emoji,
        fc.nat(),
        (pack, index, e, at) => {
          const content = {
            v: 1 as const,
            type: 'sticker' as const,
            sticker: { pack, index, emoji: e },
            sentAtMs: at,
          };
          expect(readContent(writeContent(content))).toEqual({ kind: 'known', content, shown: true });
        },
      ),
    );
  });

  it('calls any broken reference malformed, never throws, and never keeps extra fields', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (pack, index, e) => {
        const decoded = readContent(
          json({ v: 1, type: 'sticker', sticker: { pack, index, emoji: e }, sentAtMs: 1 }),
        );
        const ref = parseStickerRef({ pack, index, emoji: e });
        expect(decoded.kind).toBe(typeof ref === 'string' ? 'malformed' : 'known');
        if (decoded.kind === 'known')
          expect(decoded.content).toEqual({ v: 1, type: 'sticker', sticker: ref, sentAtMs: 1 });
      }),
    );
    expect(
      readContent(
        json({ v: 1, type: 'sticker', sticker: { pack: 'abc', index: 1, emoji: 'a' }, sentAtMs: 1 }),
      ).kind,
    ).toBe('malformed');
    expect(
      readContent(
        json({ v: 1, type: 'sticker', sticker: { pack: 'abc', index: 0, emoji: '😀' }, sentAtMs: 1 }),
      ).kind,
    ).toBe('malformed');
  });

  it('reads a pack from its link, its path or its short name, and nothing else', () => {
    fc.assert(
      fc.property(shortName, (name) => {
        expect(packOfLink(`https://courier.example/addstickers/${name}`)).toBe(name);
        expect(packOfLink(`/addstickers/${name}/`)).toBe(name);
        expect(packOfLink(name)).toBe(name);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        const name = packOfLink(text);
        if (name !== undefined) expect(name).toMatch(/^[a-z][a-z0-9_]{2,31}$/);
      }),
    );
    expect(packOfLink('https://x/addstickers/%E0%A4%A')).toBeUndefined();
  });
});
