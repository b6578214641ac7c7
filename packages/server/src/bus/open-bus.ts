import type { Config } from '../config.ts';
import type { Bus } from './ports.ts';

/** Opens the configured bus; the NATS client is loaded only when configured. */
export async function openBus(
  config: Config['bus'],
  /** What a subscriber throws, or a failed subscription: for the log. */
  onError: (error: unknown) => void = () => {},
): Promise<Bus> {
  switch (config.kind) {
    case 'memory': {
      const { MemoryBus } = await import('./memory/memory-bus.ts');
      return new MemoryBus(onError);
    }
    case 'nats': {
      const { NatsBus } = await import('./nats/nats-bus.ts');
      return NatsBus.connect({ servers: config.servers, subject: config.subject, onError });
    }
  }
}
