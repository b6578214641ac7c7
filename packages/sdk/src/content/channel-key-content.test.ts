import { encodeBase64, generateChannelKey, newId } from '@courier/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readContent, writeContent } from './content-registry.ts';

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const channelId = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => newId('channel', () => b));
const name = fc.stringMatching(/^[a-z0-9_]{5,32}$/);

function handover(id: string, n: string, key = generateChannelKey()) {
  return {
    v: 1 as const,
    type: 'channel-key' as const,
    channelId: id,
    name: n,
    publicKey: encodeBase64(key.publicKey),
    secretKey: encodeBase64(key.secretKey),
    sentAtMs: 7,
  };
}

describe('channel-key content', () => {
  it('round-trips a key pair, as a control message never shown', () => {
    fc.assert(
      fc.property(channelId, name, (id, n) => {
        const content = handover(id, n);
        expect(readContent(writeContent(content))).toEqual({ kind: 'known', content, shown: false });
      }),
      { numRuns: 50 },
    );
  });

  it('calls anything out of shape malformed and never throws', () => {
    fc.assert(
      fc.property(
        fc.record({
          channelId: fc.oneof(channelId, fc.anything()),
          name: fc.oneof(name, fc.anything()),
          publicKey: fc.anything(),
          secretKey: fc.anything(),
          sentAtMs: fc.anything(),
        }),
        (fields) => {
          const decoded = readContent(json({ v: 1, type: 'channel-key', ...fields }));
          // Random keys never make a matching pair.
          expect(decoded.kind).toBe('malformed');
        },
      ),
    );
  });

  it('refuses a secret key that does not belong to the public key it names', () => {
    const content = {
      ...handover(
        newId('channel', () => new Uint8Array(16)),
        'mixed_up',
      ),
    };
    content.secretKey = encodeBase64(generateChannelKey().secretKey);
    expect(readContent(json(content)).kind).toBe('malformed');
    expect(() => writeContent(content)).toThrow(/does not match/);
  });
});
