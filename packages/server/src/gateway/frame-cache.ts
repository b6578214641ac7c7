/** An encoded entry frame kept for fan-out. */
export interface CachedFrame {
  seq: number;
  senderDeviceId: string;
  bytes: Uint8Array;
}

/** The newest frames of one group, contiguous in sequence numbers, at least the newest `capacity` of them. */
export class FrameCache {
  private frames: CachedFrame[] = [];
  /** The sequence number of the newest frame, or the position the cache starts after. */
  last: number;

  constructor(
    start: number,
    private readonly capacity: number,
  ) {
    this.last = start;
  }

  get first(): number {
    return this.frames[0]?.seq ?? this.last + 1;
  }

  get(seq: number): CachedFrame | undefined {
    const first = this.first;
    return seq >= first && seq <= this.last ? this.frames[seq - first] : undefined;
  }

  /** Appends the next frame; a frame that is not next is refused (returns false). */
  push(frame: CachedFrame): boolean {
    if (frame.seq !== this.last + 1) return false;
    this.frames.push(frame);
    this.last = frame.seq;
    // Trim in steps so that a push costs O(1) on average.
    if (this.frames.length > this.capacity * 2) this.frames = this.frames.slice(-this.capacity);
    return true;
  }
}
