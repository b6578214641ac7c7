import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from './base64.ts';

describe('base64', () => {
  it('encodes as RFC 4648 §4 with padding, and decodes back (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = encodeBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(decodeBase64(text)).toEqual(bytes);
      }),
    );
  });

  it('refuses every text but the one canonical encoding', () => {
    expect(decodeBase64('')).toEqual(new Uint8Array());
    expect(decodeBase64('AA==')).toEqual(Uint8Array.of(0));
    for (const bad of ['AB==', 'AAB=', 'AA', 'AA=', 'AAA', 'A===', '====', 'AA==AA==', ' AA==', 'AA==\n']) {
      expect(decodeBase64(bad), bad).toBeUndefined();
    }
    for (const bad of ['-_8=', 'AA.A', 'AAAA\u00e9', 'AA AA']) expect(decodeBase64(bad), bad).toBeUndefined();
  });

  it('decodes only what it would encode itself (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ABCDEFabcdef0189+/= '), maxLength: 12 }), (text) => {
        const bytes = decodeBase64(text);
        if (bytes !== undefined) expect(encodeBase64(bytes)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });
});
