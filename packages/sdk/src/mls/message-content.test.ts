import { CourierError } from '@courier/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeContent, encodeContent, MAX_TEXT_LENGTH } from './message-content.ts';

describe('message content', () => {
  it('round-trips every text a person can send', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 300, unit: 'grapheme' }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (text, sentAtMs) => {
          const content = { v: 1 as const, type: 'text' as const, text, sentAtMs };
          expect(decodeContent(encodeContent(content))).toEqual(content);
        },
      ),
    );
  });

  it('refuses empty and over-long texts when sending', () => {
    for (const text of ['', 'x'.repeat(MAX_TEXT_LENGTH + 1)])
      expect(() => encodeContent({ v: 1, type: 'text', text, sentAtMs: 0 })).toThrow(CourierError);
  });

  it('answers anything else with MLS_MALFORMED, never a crash', () => {
    const shapes = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify(v))),
      fc
        .record({ v: fc.anything(), type: fc.anything(), text: fc.anything(), sentAtMs: fc.anything() })
        .map((v) => new TextEncoder().encode(JSON.stringify(v))),
    );
    fc.assert(
      fc.property(shapes, (bytes) => {
        try {
          const content = decodeContent(bytes);
          expect(content.v).toBe(1);
          if (content.type === 'text') expect(typeof content.text).toBe('string');
          else expect(content.file.blobId).toMatch(/^[a-f0-9]{32}$/);
        } catch (error) {
          expect(error).toBeInstanceOf(CourierError);
          expect((error as CourierError).code).toBe('MLS_MALFORMED');
        }
      }),
    );
  });

  it('answers a type it does not read with MLS_MALFORMED (readContent keeps it as unsupported)', () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ v: 1, type: 'reaction', emoji: 'x' }));
    expect(() => decodeContent(bytes)).toThrow(/reaction/);
  });
});
