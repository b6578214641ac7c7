import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blobsOfPost } from './channel-service.ts';

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const blobId = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex'));

describe('the media a channel post carries (blobsOfPost)', () => {
  it('never throws on any bytes, and names only well-formed blob ids', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        for (const id of blobsOfPost(bytes)) expect(id).toMatch(/^[a-f0-9]{32}$/);
      }),
    );
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        for (const id of blobsOfPost(encode(value))) expect(id).toMatch(/^[a-f0-9]{32}$/);
      }),
    );
  });

  it("names a file post's blob, and nothing for other content or a malformed id", () => {
    fc.assert(
      fc.property(blobId, fc.string(), (id, text) => {
        expect(blobsOfPost(encode({ v: 1, type: 'file', file: { blobId: id }, sentAtMs: 1 }))).toEqual([id]);
        expect(blobsOfPost(encode({ v: 1, type: 'text', text, file: { blobId: id } }))).toEqual([]);
        expect(blobsOfPost(encode({ v: 1, type: 'file', file: { blobId: `${id}0` } }))).toEqual([]);
        expect(blobsOfPost(encode({ v: 1, type: 'file', file: { blobId: id.toUpperCase() } }))).toEqual(
          /[a-f]/.test(id) ? [] : [id],
        );
      }),
    );
    expect(blobsOfPost(encode({ type: 'file', file: null }))).toEqual([]);
    expect(blobsOfPost(encode([{ type: 'file' }]))).toEqual([]);
  });
});
