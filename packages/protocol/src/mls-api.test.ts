import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DeviceCertificate,
  signDeviceCertificate,
  toBase64,
  verifyDeviceCertificate,
  verifyDeviceCertificateAsync,
} from './mls-api.ts';

const fields = fc.record({
  accountId: fc.string({ minLength: 1, maxLength: 30 }),
  deviceId: fc.string({ minLength: 1, maxLength: 30 }),
  signaturePublicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toBase64),
  issuedAtMs: fc.integer({ min: 0, max: 2 ** 47 }),
});
const secretKey = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** Both checks, which must always agree. */
async function verdicts(key: Uint8Array, certificate: DeviceCertificate): Promise<[boolean, boolean]> {
  return [verifyDeviceCertificate(key, certificate), await verifyDeviceCertificateAsync(key, certificate)];
}

describe('device certificates', () => {
  it('verify by WebCrypto exactly as by the pure-JS check: signed ones pass, any changed field or bit fails', async () => {
    await fc.assert(
      fc.asyncProperty(
        secretKey,
        fields,
        fc.nat(),
        fc.constantFrom('accountId', 'deviceId', 'issuedAtMs', 'signature', 'key'),
        async (secret, certified, bit, changed) => {
          const key = ed25519.getPublicKey(secret);
          const certificate = signDeviceCertificate(secret, certified);
          expect(await verdicts(key, certificate)).toEqual([true, true]);
          const signature = Uint8Array.from(atob(certificate.signature), (c) => c.charCodeAt(0));
          signature[bit % 64]! ^= 1 << (bit % 8);
          const otherKey = key.slice();
          otherKey[bit % 32]! ^= 1 << (bit % 8);
          const altered: [Uint8Array, DeviceCertificate] =
            changed === 'signature'
              ? [key, { ...certificate, signature: toBase64(signature) }]
              : changed === 'key'
                ? [otherKey, certificate]
                : changed === 'issuedAtMs'
                  ? [key, { ...certificate, issuedAtMs: certificate.issuedAtMs + 1 }]
                  : [key, { ...certificate, [changed]: `${certificate[changed]}x` }];
          expect(await verdicts(...altered)).toEqual([false, false]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses a malformed signature or key without throwing', async () => {
    const secret = new Uint8Array(32).fill(7);
    const certificate = signDeviceCertificate(secret, {
      accountId: 'u_a',
      deviceId: 'd_a',
      signaturePublicKey: toBase64(new Uint8Array(32)),
      issuedAtMs: 1,
    });
    const key = ed25519.getPublicKey(secret);
    for (const signature of ['', 'not base64!', toBase64(new Uint8Array(63))])
      expect(await verdicts(key, { ...certificate, signature })).toEqual([false, false]);
    expect(await verifyDeviceCertificateAsync(new Uint8Array(31), certificate)).toBe(false);
  });
});
