import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChannelPostFields,
  channelPostSignedBytes,
  generateChannelKey,
  signChannelPost,
  verifyChannelPost,
} from './channel-post.ts';

/**
 * The signed form of a channel post: two different posts never share signed bytes (so a signature
 * cannot be moved to another channel, post, revision or body, or turn an edit into a deletion), and a
 * signature verifies for exactly the fields it was made over.
 */
const fields: fc.Arbitrary<ChannelPostFields> = fc.record({
  channelId: fc.string({ maxLength: 40 }),
  postId: fc.string({ maxLength: 40 }),
  revision: fc.integer({ min: 0, max: 0xffff_ffff }),
  deleted: fc.boolean(),
  body: fc.uint8Array({ maxLength: 64 }),
});

const same = (a: ChannelPostFields, b: ChannelPostFields) =>
  a.channelId === b.channelId &&
  a.postId === b.postId &&
  a.revision === b.revision &&
  a.deleted === b.deleted &&
  Buffer.compare(a.body, b.body) === 0;

describe('channel post signing', () => {
  it('different fields never give the same signed bytes (property)', () => {
    fc.assert(
      fc.property(fields, fields, (a, b) => {
        const equalBytes = Buffer.compare(channelPostSignedBytes(a), channelPostSignedBytes(b)) === 0;
        expect(equalBytes).toBe(same(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('a field moved between neighbours (the classic concatenation attack) changes the bytes', () => {
    const a = { channelId: 'c_ab', postId: 'c', revision: 0, deleted: false, body: new Uint8Array() };
    const b = { ...a, channelId: 'c_a', postId: 'bc' };
    expect(Buffer.compare(channelPostSignedBytes(a), channelPostSignedBytes(b))).not.toBe(0);
  });

  it('a signature verifies for its own fields and for no changed field (property)', () => {
    const { secretKey, publicKey } = generateChannelKey();
    const other = generateChannelKey().publicKey;
    fc.assert(
      fc.property(fields, fields, (post, changed) => {
        const signature = signChannelPost(secretKey, post);
        expect(verifyChannelPost(publicKey, post, signature)).toBe(true);
        expect(verifyChannelPost(other, post, signature)).toBe(false);
        expect(verifyChannelPost(publicKey, changed, signature)).toBe(same(post, changed));
      }),
      { numRuns: 60 },
    );
  });

  it('never throws on a damaged key or signature (property)', () => {
    const { secretKey } = generateChannelKey();
    fc.assert(
      fc.property(
        fields,
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 70 }),
        (post, key, sig) => {
          expect(typeof verifyChannelPost(key, post, sig)).toBe('boolean');
          expect(verifyChannelPost(key, post, signChannelPost(secretKey, post))).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });
});
