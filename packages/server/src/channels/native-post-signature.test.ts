import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  type ChannelPostFields,
  channelPostSignedBytes,
  generateChannelKey,
  signChannelPost,
  verifyChannelPost,
} from '@courier/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyChannelPostNatively } from './native-post-signature.ts';

/**
 * The server checks post signatures natively (OpenSSL, strict RFC 8032), the clients with noble
 * (ZIP-215). What the SDK's signer makes must pass both; a tampered post must fail both; and where
 * they differ the server is the stricter one.
 */
const fields: fc.Arbitrary<ChannelPostFields> = fc.record({
  channelId: fc.string({ maxLength: 40 }),
  postId: fc.string({ maxLength: 40 }),
  revision: fc.integer({ min: 0, max: 0xffff_ffff }),
  deleted: fc.boolean(),
  body: fc.uint8Array({ maxLength: 300 }),
});

const seeds = fc.uint8Array({ minLength: 32, maxLength: 32 });

type Tamper = (f: ChannelPostFields, signature: Uint8Array) => [ChannelPostFields, Uint8Array];
const tampers: fc.Arbitrary<Tamper> = fc.oneof(
  fc.integer({ min: 0, max: 63 * 8 + 7 }).map<Tamper>((bit) => (f, s) => {
    const t = Uint8Array.from(s);
    t[bit >> 3]! ^= 1 << (bit & 7);
    return [f, t];
  }),
  fc.constant<Tamper>((f, s) => [{ ...f, channelId: `${f.channelId}x` }, s]),
  fc.constant<Tamper>((f, s) => [{ ...f, postId: `${f.postId}x` }, s]),
  fc.constant<Tamper>((f, s) => [{ ...f, revision: (f.revision + 1) % 0x1_0000_0000 }, s]),
  fc.constant<Tamper>((f, s) => [{ ...f, deleted: !f.deleted }, s]),
  fc.nat().map<Tamper>((at) => (f, s) => {
    const body = new Uint8Array(f.body.length + (f.body.length === 0 ? 1 : 0));
    body.set(f.body);
    body[at % body.length]! ^= 0x01;
    return [{ ...f, body }, s];
  }),
);

describe('channel post signatures, natively on the server and with noble in clients', () => {
  it('a post signed by the SDK’s signer verifies on both paths (property)', () => {
    fc.assert(
      fc.property(seeds, fields, (seed, f) => {
        const publicKey = ed25519.getPublicKey(seed);
        const signature = signChannelPost(seed, f);
        expect(verifyChannelPostNatively(publicKey, f, signature)).toBe(true);
        expect(verifyChannelPost(publicKey, f, signature)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a tampered post, or one checked against another key, fails on both paths (property)', () => {
    fc.assert(
      fc.property(seeds, seeds, fields, tampers, (seed, other, f, tamper) => {
        const publicKey = ed25519.getPublicKey(seed);
        const [g, signature] = tamper(f, signChannelPost(seed, f));
        expect(verifyChannelPostNatively(publicKey, g, signature)).toBe(false);
        expect(verifyChannelPost(publicKey, g, signature)).toBe(false);
        fc.pre(Buffer.compare(Buffer.from(seed), Buffer.from(other)) !== 0);
        const otherKey = ed25519.getPublicKey(other);
        expect(verifyChannelPostNatively(otherKey, f, signChannelPost(seed, f))).toBe(false);
        expect(verifyChannelPost(otherKey, f, signChannelPost(seed, f))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses malformed keys and signatures without throwing', () => {
    const { secretKey, publicKey } = generateChannelKey();
    const f = { channelId: 'c', postId: 'p', revision: 0, deleted: false, body: Uint8Array.of(1) };
    const signature = signChannelPost(secretKey, f);
    expect(verifyChannelPostNatively(publicKey.subarray(0, 31), f, signature)).toBe(false);
    expect(verifyChannelPostNatively(publicKey, f, signature.subarray(0, 63))).toBe(false);
    // A y coordinate with no point on the curve (y = 2).
    const notAPoint = new Uint8Array(32);
    notAPoint[0] = 2;
    expect(verifyChannelPostNatively(notAPoint, f, signature)).toBe(false);
    expect(verifyChannelPostNatively(publicKey, { ...f, revision: -1 }, signature)).toBe(false);
  });

  it('where the two differ the server is stricter: a signature with a small-order part passes noble (ZIP-215) only', () => {
    // R' = rB + T with T of order 2 and s = r + H(R' || A || M)·a: the cofactored equation (ZIP-215)
    // holds, the cofactorless one (RFC 8032, OpenSSL) does not. No honest signer makes this.
    const { secretKey, publicKey } = generateChannelKey();
    const { scalar } = ed25519.utils.getExtendedPublicKey(secretKey);
    const L = ed25519.Point.Fn.ORDER;
    const f = { channelId: 'c', postId: 'p', revision: 1, deleted: false, body: Uint8Array.of(7) };
    const r = 123456789n;
    const T = ed25519.Point.fromHex(`ec${'ff'.repeat(30)}7f`);
    const R = ed25519.Point.BASE.multiply(r).add(T).toBytes();
    const digest = createHash('sha512')
      .update(R)
      .update(publicKey)
      .update(channelPostSignedBytes(f))
      .digest();
    const k = BigInt(`0x${Buffer.from(digest).reverse().toString('hex')}`) % L;
    const s = (r + k * scalar) % L;
    const sBytes = Buffer.from(s.toString(16).padStart(64, '0'), 'hex').reverse();
    const signature = new Uint8Array([...R, ...sBytes]);
    expect(verifyChannelPost(publicKey, f, signature)).toBe(true);
    expect(verifyChannelPostNatively(publicKey, f, signature)).toBe(false);
  });
});
