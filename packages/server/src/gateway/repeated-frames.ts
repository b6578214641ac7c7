import { type ClientFrame, decodeClientFrame } from '@courier/protocol';

/** Frames that carry only a position, the same bytes from every member at that position. */
const REPEATABLE = new Set<ClientFrame['type']>(['ack', 'channel_read']);
/** Larger frames are never compared (an ack or a channel read is a few dozen bytes). */
const MAX_REPEATABLE_BYTES = 128;

/**
 * Client frames decoded, the last cumulative ack or channel read kept: after a fan-out, the
 * recipients acknowledge the same position with the same bytes (`ack` of a group, `channel_read` of
 * a channel), thousands of times within a few seconds; a frame equal to the last one of its kind is
 * not decoded again. Decoded frames of these kinds hold only strings and numbers, and no handler
 * changes them. Anything else, and any frame that fails to decode, goes through decodeClientFrame.
 */
export class RepeatedFrames {
  private lastBytes: Buffer | undefined;
  private lastFrame: ClientFrame | undefined;

  decode(data: Buffer): ClientFrame {
    if (
      this.lastBytes !== undefined &&
      data.byteLength <= MAX_REPEATABLE_BYTES &&
      this.lastBytes.equals(data)
    )
      return this.lastFrame!;
    const frame = decodeClientFrame(data);
    if (REPEATABLE.has(frame.type) && data.byteLength <= MAX_REPEATABLE_BYTES) {
      // A copy: `data` may be a view into a buffer the socket reuses.
      this.lastBytes = Buffer.from(data);
      this.lastFrame = frame;
    }
    return frame;
  }
}
