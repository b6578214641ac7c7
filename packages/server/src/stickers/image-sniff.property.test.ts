import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { pngStructure, sniffImage } from './image-sniff.ts';
import { validSides } from './sticker-image.ts';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A PNG-shaped chunk sequence: IHDR first, chunks of the given types, IEND last. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  new DataView(out.buffer).setUint32(0, data.length);
  out.set(
    [...type].map((c) => c.charCodeAt(0)),
    4,
  );
  out.set(data, 8);
  return out;
}
const concat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const chunkType = fc.constantFrom('IDAT', 'tEXt', 'acTL', 'fcTL', 'fdAT', 'gAMA', 'zzZz');
const chunkArb = fc.tuple(chunkType, fc.uint8Array({ maxLength: 40 }));

describe('image sniffing (property-based)', () => {
  it('never throws, and only PNG/WebP signatures are called png/webp', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const kind = sniffImage(bytes);
        if (kind === 'png') expect([...bytes.subarray(0, 8)]).toEqual(SIGNATURE);
        if (kind === 'webp') expect(new TextDecoder('latin1').decode(bytes.subarray(8, 12))).toBe('WEBP');
        const structure = pngStructure(bytes);
        if (structure.kind === 'png') expect(kind).toBe('png');
      }),
    );
  });

  it('walks any well-formed chunk sequence to IEND and finds acTL exactly when it is there', () => {
    fc.assert(
      fc.property(
        fc.array(chunkArb, { maxLength: 8 }),
        fc.uint8Array({ maxLength: 20 }),
        (chunks, trailer) => {
          const bytes = concat([
            Uint8Array.from(SIGNATURE),
            chunk('IHDR', new Uint8Array(13)),
            ...chunks.map(([t, d]) => chunk(t, d)),
            chunk('IEND', new Uint8Array(0)),
            trailer,
          ]);
          expect(pngStructure(bytes)).toEqual({ kind: 'png', animated: chunks.some(([t]) => t === 'acTL') });
        },
      ),
    );
  });

  it('calls any cut-short or mis-ordered sequence malformed', () => {
    fc.assert(
      fc.property(fc.array(chunkArb, { maxLength: 6 }), fc.nat(), (chunks, cutAt) => {
        const whole = concat([
          Uint8Array.from(SIGNATURE),
          chunk('IHDR', new Uint8Array(13)),
          ...chunks.map(([t, d]) => chunk(t, d)),
          chunk('IEND', new Uint8Array(0)),
        ]);
        const cut = whole.subarray(0, cutAt % whole.length);
        expect(pngStructure(cut)).toEqual({ kind: 'malformed' });
        const noHeader = concat([Uint8Array.from(SIGNATURE), ...chunks.map(([t, d]) => chunk(t, d))]);
        // IHDR missing: the first chunk is something else (or IEND itself).
        expect(pngStructure(concat([noHeader, chunk('IEND', new Uint8Array(0))])).kind).toBe('malformed');
      }),
    );
  });

  it('agrees with what sharp writes: PNG and WebP, still and animated', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } })
      .png()
      .toBuffer();
    const webp = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } })
      .webp()
      .toBuffer();
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } })
      .jpeg()
      .toBuffer();
    const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } })
      .gif()
      .toBuffer();
    expect([sniffImage(png), sniffImage(webp), sniffImage(jpeg), sniffImage(gif)]).toEqual([
      'png',
      'webp',
      'other-image',
      'other-image',
    ]);
    expect(pngStructure(png)).toEqual({ kind: 'png', animated: false });
    expect(sniffImage(new TextEncoder().encode('  <svg xmlns="http://www.w3.org/2000/svg"/>'))).toBe(
      'other-image',
    );
  });

  it('takes sizes with one side of 512 and the other from 1 to 512, and nothing else', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10, max: 2000 }), fc.integer({ min: -10, max: 2000 }), (w, h) => {
        const expected = w >= 1 && h >= 1 && w <= 512 && h <= 512 && (w === 512 || h === 512);
        expect(validSides(w, h)).toBe(expected);
      }),
    );
  });
});
