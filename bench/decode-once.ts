/**
 * A frame decoded once for all the load client's connections that receive the same bytes. A
 * fan-out writes the same frame to every subscriber; the subscribers stand for devices on other
 * machines, whose decoding is no part of the server's cost, but here they share the two cores
 * with the server. The channel bench and its W2 floor both decode through one of these, so the
 * load client does the same work per delivery on both (compare the bytes with the last frame
 * decoded, decode only a new frame) whatever each protocol's decoder costs: the latency ratio then
 * measures the servers, not protobuf against the floor's few bytes.
 */
export class DecodeOnce<T> {
  private last: Buffer | undefined;
  private value: T | undefined;
  /** Frames decoded, and frames received in all (a check that sharing happened). */
  decoded = 0;
  received = 0;

  constructor(private readonly decode: (bytes: Buffer) => T) {}

  get(bytes: Buffer): T {
    this.received += 1;
    if (this.last?.equals(bytes)) return this.value as T;
    const value = this.decode(bytes);
    this.last = bytes;
    this.value = value;
    this.decoded += 1;
    return value;
  }
}
