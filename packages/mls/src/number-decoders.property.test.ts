/**
 * The patched uint16/uint32 decoders of ts-mls (patches/: they read bytes directly instead of making a
 * DataView per call, the top self time of loading a 5,000-member tree) decode exactly what a DataView
 * does, and refuse (undefined) exactly where a DataView throws, for any bytes, any view into a larger
 * buffer and any offset.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { uint16Decoder, uint32Decoder } from './ts-mls-internal.ts';

const viewOf = (bytes: Uint8Array, start: number) => bytes.subarray(Math.min(start, bytes.length));

function dataView(b: Uint8Array, offset: number, size: 2 | 4): [number, number] | undefined {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  try {
    return [size === 2 ? view.getUint16(offset) : view.getUint32(offset), size];
  } catch {
    return undefined;
  }
}

describe('patched ts-mls number decoders', () => {
  it('agree with DataView on every input', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 12 }),
        fc.nat(6),
        fc.integer({ min: -2, max: 14 }),
        (bytes, start, offset) => {
          const b = viewOf(bytes, start);
          expect(uint16Decoder(b, offset)).toEqual(dataView(b, offset, 2));
          expect(uint32Decoder(b, offset)).toEqual(dataView(b, offset, 4));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('read the largest values without sign trouble', () => {
    const b = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
    expect(uint16Decoder(b, 0)).toEqual([0xffff, 2]);
    expect(uint32Decoder(b, 0)).toEqual([0xffffffff, 4]);
  });
});
