import { connect, type NatsConnection } from 'nats';
import type { Bus, BusSignal } from '../ports.ts';
import { parseSignal } from '../signal-codec.ts';

export interface NatsBusOptions {
  servers: string[];
  subject: string;
  name?: string;
  /** Hears what a subscriber throws and a subscription that fails: neither may end the process. */
  onError?: (error: unknown) => void;
}

/** Signals as JSON on one NATS subject; every node subscribes to it. */
export class NatsBus implements Bus {
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const nc = await connect({
      servers: options.servers,
      name: options.name ?? 'courier-server',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    return new NatsBus(nc, options.subject, options.onError ?? (() => {}));
  }

  async publish(signal: BusSignal): Promise<void> {
    this.nc.publish(this.subject, this.encoder.encode(JSON.stringify(signal)));
  }

  subscribe(handler: (signal: BusSignal) => void): void {
    const sub = this.nc.subscribe(this.subject);
    (async () => {
      for await (const message of sub) {
        const signal = parseSignal(this.decoder.decode(message.data));
        if (!signal) continue;
        try {
          handler(signal);
        } catch (error) {
          this.onError(error);
        }
      }
    })().catch(this.onError);
  }

  onResume(handler: () => void): void {
    (async () => {
      for await (const status of this.nc.status()) {
        if (status.type !== 'reconnect') continue;
        try {
          handler();
        } catch (error) {
          this.onError(error);
        }
      }
    })().catch(this.onError);
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}
