import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CourierError } from './errors.ts';
import {
  type ClientFrame,
  decodeClientFrame,
  decodeMlsWelcome,
  decodeRosterEvent,
  decodeServerFrame,
  encodeClientFrame,
  encodeMlsWelcome,
  encodeRosterEvent,
  encodeServerFrame,
  type RosterEvent,
  type ServerFrame,
} from './frames.ts';
import { MAX_FRAME_BYTES } from './limits.ts';

const seq = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const str = fc.string({ maxLength: 40 });
const bytes = fc.uint8Array({ maxLength: 300 });

const clientFrame: fc.Arbitrary<ClientFrame> = fc.oneof(
  fc.record(
    {
      type: fc.constant('hello' as const),
      protocolVersion: u32,
      token: str,
      client: str,
      sendOnly: fc.constant(true),
    },
    { requiredKeys: ['type', 'protocolVersion', 'token', 'client'] },
  ),
  fc.record({
    type: fc.constant('send' as const),
    requestId: u32,
    groupId: str,
    clientMsgId: str,
    payload: bytes,
  }),
  fc.record({ type: fc.constant('ack' as const), groupId: str, seq }),
  fc.record({
    type: fc.constant('send_to_device' as const),
    requestId: u32,
    deviceId: str,
    clientMsgId: str,
    payload: bytes,
  }),
  fc.record({ type: fc.constant('mailbox_ack' as const), seq }),
  fc.record({ type: fc.constant('ping' as const), nonce: seq }),
  fc.record({ type: fc.constant('channel_read' as const), channelId: str, seq }),
);

const serverFrame: fc.Arbitrary<ServerFrame> = fc.oneof(
  fc.record({
    type: fc.constant('ready' as const),
    protocolVersion: u32,
    accountId: str,
    deviceId: str,
    serverTimeMs: seq,
    maxFrameBytes: u32,
    maxPayloadBytes: u32,
  }),
  fc.record({
    type: fc.constant('accepted' as const),
    requestId: u32,
    groupId: str,
    deviceId: str,
    seq,
    duplicate: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('entry' as const),
    groupId: str,
    seq,
    kind: fc.constantFrom('message' as const, 'roster' as const, 'commit' as const),
    senderAccountId: str,
    senderDeviceId: str,
    clientMsgId: str,
    payload: bytes,
    sentAtMs: seq,
  }),
  fc.record({
    type: fc.constant('mailbox_item' as const),
    seq,
    kind: fc.constantFrom('device' as const, 'welcome' as const),
    senderAccountId: str,
    senderDeviceId: str,
    clientMsgId: str,
    payload: bytes,
    sentAtMs: seq,
  }),
  fc.record({ type: fc.constant('error' as const), requestId: u32, code: str, message: str }),
  fc.record({ type: fc.constant('pong' as const), nonce: seq, serverTimeMs: seq }),
  fc.record({ type: fc.constant('group_joined' as const), groupId: str, fromSeq: seq }),
  fc.record({ type: fc.constant('group_left' as const), groupId: str }),
  fc.record({ type: fc.constant('goodbye' as const), code: str, message: str }),
  fc.record({ type: fc.constant('channel_posted' as const), channelId: str, seq }),
  // A post carried in the frame: the one at `seq`.
  fc
    .record({
      channelId: str,
      seq,
      postId: str,
      revision: u32,
      deleted: fc.boolean(),
      body: bytes,
      signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
      createdAtMs: seq,
      editedAtMs: fc.option(seq, { nil: null }),
      views: seq,
    })
    .map(
      ({ channelId, seq: at, ...post }): ServerFrame => ({
        type: 'channel_posted',
        channelId,
        seq: at,
        post: { ...post, seq: at },
      }),
    ),
);

function expectTypedFailure(decode: () => unknown): void {
  try {
    decode();
  } catch (error) {
    expect(error).toBeInstanceOf(CourierError);
    expect((error as CourierError).code).toMatch(/^PROTO_/);
  }
}

describe('frame codec', () => {
  it('round-trips every client frame', () => {
    fc.assert(
      fc.property(clientFrame, (frame) => {
        expect(decodeClientFrame(encodeClientFrame(frame))).toEqual(frame);
      }),
    );
  });

  it('round-trips every server frame', () => {
    fc.assert(
      fc.property(serverFrame, (frame) => {
        expect(decodeServerFrame(encodeServerFrame(frame))).toEqual(frame);
      }),
    );
  });

  it('round-trips roster events', () => {
    const event: fc.Arbitrary<RosterEvent> = fc.record({
      action: fc.constantFrom(
        'created' as const,
        'added' as const,
        'removed' as const,
        'left' as const,
        'role_changed' as const,
        'device_added' as const,
      ),
      actorAccountId: str,
      subjectAccountIds: fc.array(str, { maxLength: 5 }),
      role: str,
      title: str,
    });
    fc.assert(
      fc.property(event, (e) => {
        expect(decodeRosterEvent(encodeRosterEvent(e))).toEqual(e);
      }),
    );
  });

  it('answers arbitrary bytes with a frame or a typed PROTO_ error, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (input) => {
        expectTypedFailure(() => decodeClientFrame(input));
        expectTypedFailure(() => decodeServerFrame(input));
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects every truncation of a valid frame that does not decode to the same frame', () => {
    fc.assert(
      fc.property(clientFrame, fc.nat(), (frame, cut) => {
        const full = encodeClientFrame(frame);
        const truncated = full.subarray(0, full.length === 0 ? 0 : cut % full.length);
        expectTypedFailure(() => decodeClientFrame(truncated));
      }),
    );
  });

  it('rejects empty, oversized and bodiless frames with distinct codes', () => {
    expect(() => decodeClientFrame(new Uint8Array())).toThrow(
      expect.objectContaining({ code: 'PROTO_MALFORMED_FRAME' }),
    );
    expect(() => decodeClientFrame(new Uint8Array(MAX_FRAME_BYTES + 1))).toThrow(
      expect.objectContaining({ code: 'PROTO_FRAME_TOO_LARGE' }),
    );
    // field 15, varint 1: a well-formed protobuf message with no known body
    expect(() => decodeClientFrame(Uint8Array.of(0x78, 0x01))).toThrow(
      expect.objectContaining({ code: 'PROTO_UNKNOWN_FRAME' }),
    );
  });

  it('rejects a sequence number beyond 2^53 instead of rounding it', () => {
    // ClientFrame.mailbox_ack (field 5, length-delimited) { seq (field 1) = 2^60 }
    const seqVarint = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
    const inner = [0x08, ...seqVarint];
    const frame = Uint8Array.of(0x2a, inner.length, ...inner);
    expect(() => decodeClientFrame(frame)).toThrow(
      expect.objectContaining({ code: 'PROTO_MALFORMED_FRAME' }),
    );
  });
});

describe('channel frames', () => {
  const post = {
    postId: 'p'.repeat(32),
    seq: 7,
    revision: 0,
    deleted: false,
    body: Uint8Array.of(1, 2, 3),
    signature: new Uint8Array(64),
    createdAtMs: 1,
    editedAtMs: null,
    views: 0,
  };

  it('refuse a pushed post that is not the one at seq', () => {
    fc.assert(
      fc.property(seq, seq, (frameSeq, postSeq) => {
        fc.pre(frameSeq !== postSeq);
        const bytes = encodeServerFrame({
          type: 'channel_posted',
          channelId: 'c',
          seq: frameSeq,
          post: { ...post, seq: postSeq },
        });
        expect(() => decodeServerFrame(bytes)).toThrow(
          expect.objectContaining({ code: 'PROTO_MALFORMED_FRAME' }),
        );
      }),
    );
  });

  it('answer every mutation of a pushed post with the post, another frame or a typed error', () => {
    const full = encodeServerFrame({ type: 'channel_posted', channelId: 'c_x', seq: 7, post });
    fc.assert(
      fc.property(fc.nat(full.length - 1), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const mutated = Uint8Array.from(full);
        mutated[at] = byte;
        try {
          const frame = decodeServerFrame(mutated);
          if (frame.type === 'channel_posted' && frame.post) expect(frame.post.seq).toBe(frame.seq);
        } catch (error) {
          expect(error).toBeInstanceOf(CourierError);
          expect((error as CourierError).code).toMatch(/^PROTO_/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuse a negative time in a pushed post', () => {
    // ChannelPosted { channel_id "c", seq 7, post { seq 7, created_at_ms -1 } } written by hand:
    // the codec itself never encodes a negative time.
    const created = [0x38, ...Array(9).fill(0xff), 0x01];
    const inner = [0x10, 0x07, ...created];
    const posted = [0x0a, 0x01, 0x63, 0x10, 0x07, 0x1a, inner.length, ...inner];
    const frame = Uint8Array.of(0x52, posted.length, ...posted);
    expect(() => decodeServerFrame(frame)).toThrow(
      expect.objectContaining({ code: 'PROTO_MALFORMED_FRAME' }),
    );
  });
});

describe('MlsWelcome items', () => {
  it('round-trip every complete item', () => {
    fc.assert(
      fc.property(
        fc.record({
          groupId: str.filter((s) => s.length > 0),
          epoch: seq,
          commitSeq: seq,
          welcome: bytes.filter((b) => b.length > 0),
        }),
        (item) => {
          expect(decodeMlsWelcome(encodeMlsWelcome(item))).toEqual(item);
        },
      ),
    );
  });

  it('refuse arbitrary bytes with a typed error, never a crash', () => {
    fc.assert(
      fc.property(bytes, (junk) => {
        try {
          const item = decodeMlsWelcome(junk);
          expect(item.groupId.length).toBeGreaterThan(0);
          expect(item.welcome.length).toBeGreaterThan(0);
        } catch (error) {
          expect(error).toBeInstanceOf(CourierError);
          expect((error as CourierError).code).toBe('PROTO_MALFORMED_FRAME');
        }
      }),
    );
  });
});
