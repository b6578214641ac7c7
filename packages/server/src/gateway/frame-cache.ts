/** An encoded entry frame kept for fan-out (`wire`: the same, framed once as a WebSocket frame). */
export interface CachedFrame {
  seq: number;
  senderDeviceId: string;
  bytes: Uint8Array;
  wire?: Buffer;
}

/** How much one group's cache may hold: both bounds apply (a frame can be up to the frame size). */
export interface FrameCacheLimits {
  entries: number;
  bytes: number;
}

/**
 * The newest frames of one group, contiguous in sequence numbers: the longest run of newest frames
 * that fits both in `limits.entries` and in `limits.bytes`. Counting entries alone is not a bound:
 * 512 entries of up to 2 MiB each would be a gigabyte per group.
 */
export class FrameCache {
  /** Kept frames from `head` on; slots before it are cleared and compacted away now and then. */
  private frames: (CachedFrame | undefined)[] = [];
  private head = 0;
  private keptBytes = 0;
  /** The sequence number of the newest frame, or the position the cache starts after. */
  last: number;

  constructor(
    start: number,
    private readonly limits: FrameCacheLimits,
  ) {
    this.last = start;
  }

  get first(): number {
    return this.frames[this.head]?.seq ?? this.last + 1;
  }

  /** Bytes of the frames held. */
  get bytes(): number {
    return this.keptBytes;
  }

  get(seq: number): CachedFrame | undefined {
    const first = this.first;
    return seq >= first && seq <= this.last ? this.frames[this.head + seq - first] : undefined;
  }

  /** Appends the next frame, dropping the oldest ones beyond the limits; a frame that is not next is refused (returns false). */
  push(frame: CachedFrame): boolean {
    if (frame.seq !== this.last + 1) return false;
    this.frames.push(frame);
    this.keptBytes += frame.bytes.byteLength;
    this.last = frame.seq;
    while (this.frames.length - this.head > this.limits.entries || this.keptBytes > this.limits.bytes)
      this.dropOldest();
    return true;
  }

  /** Drops the oldest frame held (readers behind it read from the store); returns its bytes. */
  dropOldest(): number {
    const oldest = this.frames[this.head];
    if (!oldest) return 0;
    this.keptBytes -= oldest.bytes.byteLength;
    this.frames[this.head] = undefined;
    this.head += 1;
    // Compact once the cleared slots are the larger part, so each drop costs O(1) on average.
    if (this.head > 32 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    return oldest.bytes.byteLength;
  }
}
