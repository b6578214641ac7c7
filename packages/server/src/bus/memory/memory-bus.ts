import type { Bus, BusSignal } from '../ports.ts';

/** The in-process bus of a single node: signals are delivered on the next microtask. */
export class MemoryBus implements Bus {
  private readonly handlers: ((signal: BusSignal) => void)[] = [];

  /** `onError` hears what a subscriber throws: in a microtask, that would end the process. */
  constructor(private readonly onError: (error: unknown) => void = () => {}) {}

  async publish(signal: BusSignal): Promise<void> {
    queueMicrotask(() => {
      for (const handler of this.handlers) {
        try {
          handler(signal);
        } catch (error) {
          this.onError(error);
        }
      }
    });
  }

  subscribe(handler: (signal: BusSignal) => void): void {
    this.handlers.push(handler);
  }

  onResume(_handler: () => void): void {
    // An in-process bus is never interrupted.
  }

  async close(): Promise<void> {
    this.handlers.length = 0;
  }
}
