import { CourierError, type ClientFrame, decodeClientFrame, encodeClientFrame } from '@courier/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RepeatedFrames } from './repeated-frames.ts';

const outcome = (decode: () => ClientFrame) => {
  try {
    return { frame: decode() };
  } catch (error) {
    return { error: error instanceof CourierError ? error.code : String(error) };
  }
};

const frame: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc
    .record({ groupId: fc.constantFrom('g_1', 'g_2'), seq: fc.integer({ min: 0, max: 3 }) })
    .map((f) => encodeClientFrame({ type: 'ack', ...f })),
  fc
    .record({ channelId: fc.constantFrom('c_1', 'c_2'), seq: fc.integer({ min: 0, max: 3 }) })
    .map((f) => encodeClientFrame({ type: 'channel_read', ...f })),
  fc.integer({ min: 0, max: 2 }).map((nonce) => encodeClientFrame({ type: 'ping', nonce })),
  fc.uint8Array({ maxLength: 40 }),
);

describe('RepeatedFrames', () => {
  it('decodes every frame as decodeClientFrame does, repeated ones included (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(frame, fc.integer({ min: 1, max: 3 })), { maxLength: 40 }), (frames) => {
        const repeated = new RepeatedFrames();
        for (const [bytes, times] of frames)
          for (let i = 0; i < times; i++) {
            // Each time its own buffer, as from another socket.
            const data = Buffer.from(bytes);
            expect(outcome(() => repeated.decode(data))).toEqual(outcome(() => decodeClientFrame(data)));
          }
      }),
    );
  });

  it('keeps its own copy of the bytes it compares with', () => {
    const repeated = new RepeatedFrames();
    const data = Buffer.from(encodeClientFrame({ type: 'channel_read', channelId: 'c_1', seq: 2 }));
    expect(repeated.decode(data)).toEqual({ type: 'channel_read', channelId: 'c_1', seq: 2 });
    // The socket reuses the buffer for another frame: that one is decoded, not taken for the first.
    data.set(encodeClientFrame({ type: 'channel_read', channelId: 'c_1', seq: 3 }));
    expect(repeated.decode(data)).toEqual({ type: 'channel_read', channelId: 'c_1', seq: 3 });
  });
});
