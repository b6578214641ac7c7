import { CourierError } from '@courier/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { knownContentTypes, readContent, writeContent } from './content-registry.ts';

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('content registry', () => {
  it('reads any bytes without throwing, and classifies them', () => {
    const shapes = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.jsonValue().map(json),
      fc
        .record({
          v: fc.oneof(fc.constant(1), fc.anything()),
          type: fc.oneof(fc.constantFrom('text', 'receipt', 'reaction'), fc.string()),
          text: fc.anything(),
          status: fc.oneof(fc.constantFrom('delivered', 'read'), fc.anything()),
          upToSeq: fc.oneof(fc.integer(), fc.anything()),
          sentAtMs: fc.oneof(fc.integer(), fc.anything()),
        })
        .map(json),
    );
    fc.assert(
      fc.property(shapes, (bytes) => {
        const decoded = readContent(bytes);
        expect(['known', 'unsupported', 'malformed']).toContain(decoded.kind);
        if (decoded.kind === 'unsupported') {
          expect(knownContentTypes().includes(decoded.type) && decoded.v === 1).toBe(false);
          expect(decoded.type.length).toBeGreaterThan(0);
          expect(decoded.type.length).toBeLessThanOrEqual(64);
        }
        if (decoded.kind === 'known') expect(knownContentTypes()).toContain(decoded.content.type);
      }),
    );
  });

  it('keeps a type it does not know, or a newer version of one it knows, as unsupported', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 100 }).filter((t) => !knownContentTypes().includes(t)),
        fc.integer({ min: 1, max: 1000 }),
        fc.dictionary(fc.string(), fc.jsonValue()),
        (type, v, rest) => {
          const decoded = readContent(json({ ...rest, v, type }));
          expect(decoded).toEqual({ kind: 'unsupported', type: type.slice(0, 64), v });
        },
      ),
    );
    expect(readContent(json({ v: 2, type: 'text', text: 'from the future', sentAtMs: 1 }))).toEqual({
      kind: 'unsupported',
      type: 'text',
      v: 2,
    });
  });

  it('round-trips receipts and marks them as not shown', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('delivered' as const, 'read' as const),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (status, upToSeq, sentAtMs) => {
          const content = { v: 1 as const, type: 'receipt' as const, status, upToSeq, sentAtMs };
          expect(readContent(writeContent(content))).toEqual({ kind: 'known', content, shown: false });
        },
      ),
    );
  });

  it('calls broken fields of a known type malformed, and refuses to send them', () => {
    expect(readContent(json({ v: 1, type: 'receipt', status: 'seen', upToSeq: 3, sentAtMs: 0 })).kind).toBe(
      'malformed',
    );
    expect(readContent(json({ v: 1, type: 'text', text: 42, sentAtMs: 0 })).kind).toBe('malformed');
    expect(readContent(json({ type: 'text', text: 'no version', sentAtMs: 0 })).kind).toBe('malformed');
    expect(readContent(json(['text'])).kind).toBe('malformed');
    expect(() => writeContent({ v: 1, type: 'receipt', status: 'read', upToSeq: 0, sentAtMs: 0 })).toThrow(
      CourierError,
    );
  });
});
