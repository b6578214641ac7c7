/**
 * Timers for a load process's periodic sends per connection (acks, channel reads), shaped as the SDK
 * sends them: after a wait of 0.5–1.5 × a delay, drawn at random in the SDK; here the connections are
 * spread evenly (round-robin) over SLOTS timers, so that one timer serves many connections of the load
 * process and connections that got the same frame at the same moment do not all answer in one burst.
 * A connection waiting in a slot is flushed once however often it was put there.
 */
export class SlotTimers<M> {
  static readonly SLOTS = 20;
  private readonly waiting: Set<M>[] = Array.from({ length: SlotTimers.SLOTS }, () => new Set<M>());
  private readonly timers: (NodeJS.Timeout | undefined)[] = [];
  private readonly lastFlushAt: number[] = new Array<number>(SlotTimers.SLOTS).fill(0);
  private assigned = 0;

  /**
   * @param wait the slot's wait, from when it last flushed (`Date.now()`, 0 before) and its spread in
   *   [0, 1) (its position among the slots)
   * @param send what a waiting connection does when its slot's timer fires
   */
  constructor(
    private readonly wait: (lastFlushAt: number, spread: number) => number,
    private readonly send: (member: M) => void,
  ) {}

  /** The slot of a new connection: round-robin, so that the slots are equally full. */
  slot(): number {
    return this.assigned++ % SlotTimers.SLOTS;
  }

  later(member: M, slot: number): void {
    this.waiting[slot]!.add(member);
    this.timers[slot] ??= setTimeout(
      () => this.flush(slot),
      this.wait(this.lastFlushAt[slot]!, slot / SlotTimers.SLOTS),
    );
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    for (const set of this.waiting) set.clear();
  }

  private flush(slot: number): void {
    this.timers[slot] = undefined;
    this.lastFlushAt[slot] = Date.now();
    for (const member of this.waiting[slot]!) this.send(member);
    this.waiting[slot]!.clear();
  }
}
