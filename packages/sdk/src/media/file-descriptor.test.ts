import { CourierError, encodeBase64 } from '@courier/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeContent, encodeContent } from '../mls/message-content.ts';
import { type FileDescriptor, MAX_PREVIEW_BYTES, parseFileDescriptor } from './file-descriptor.ts';

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(encodeBase64);
const descriptor: fc.Arbitrary<FileDescriptor> = fc.record(
  {
    blobId: fc.stringMatching(/^[a-f0-9]{32}$/),
    key: bytes32,
    digest: bytes32,
    size: fc.integer({ min: 0, max: 2 ** 40 }),
    mime: fc.constantFrom('image/jpeg', 'video/mp4', 'audio/ogg', 'application/octet-stream'),
    name: fc
      .string({ minLength: 1, maxLength: 255, unit: 'grapheme' })
      .filter((n) => !/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u.test(n)),
    width: fc.integer({ min: 1, max: 20_000 }),
    height: fc.integer({ min: 1, max: 20_000 }),
    durationMs: fc.integer({ min: 1, max: 10 ** 9 }),
    preview: fc.record({
      mime: fc.constant('image/webp'),
      data: fc.uint8Array({ maxLength: 2000 }).map(encodeBase64),
    }),
  },
  { requiredKeys: ['blobId', 'key', 'digest', 'size', 'mime', 'name'] },
);

describe('file message content', () => {
  it('round-trips every well-formed file descriptor through the MLS content format', () => {
    fc.assert(
      fc.property(descriptor, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (file, sentAtMs) => {
        const content = { v: 1 as const, type: 'file' as const, file, sentAtMs };
        expect(decodeContent(encodeContent(content))).toEqual(content);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses anything out of shape with MLS_MALFORMED, whatever the fields hold', () => {
    const field = fc.oneof(fc.anything(), fc.string(), fc.integer(), fc.constant(undefined));
    fc.assert(
      fc.property(
        descriptor,
        fc.constantFrom('blobId', 'key', 'digest', 'size', 'mime', 'name', 'width', 'preview'),
        field,
        (file, key, value) => {
          const changed = { ...file, [key]: value };
          try {
            const parsed = parseFileDescriptor(changed);
            // Accepted only if still well-formed: it equals what the parser keeps of it.
            expect(parseFileDescriptor(parsed)).toEqual(parsed);
          } catch (error) {
            expect(error).toBeInstanceOf(CourierError);
            expect((error as CourierError).code).toBe('MLS_MALFORMED');
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a name with control characters, a path-like blob id, a short key and an oversized preview', () => {
    const ok = fc.sample(descriptor, 1)[0]!;
    const bad = [
      { ...ok, name: 'a\u001b[2Jb' },
      { ...ok, name: 'evil\u202etxt.exe' },
      { ...ok, blobId: '../../etc/passwd' },
      { ...ok, key: encodeBase64(new Uint8Array(16)) },
      { ...ok, preview: { mime: 'image/webp', data: encodeBase64(new Uint8Array(MAX_PREVIEW_BYTES + 1)) } },
      { ...ok, size: -1 },
    ];
    for (const d of bad)
      expect(() => parseFileDescriptor(d), JSON.stringify(d).slice(0, 80)).toThrow(CourierError);
  });
});
