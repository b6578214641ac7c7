import { connect, type NatsConnection } from 'nats';
import type { Bus, BusSignal } from '../ports.ts';
import { parseSignal } from '../signal-codec.ts';

export interface NatsBusOptions {
  servers: string[];
  subject: string;
  name?: string;
}

/** Signals as JSON on one NATS subject; every node subscribes to it. */
export class NatsBus implements Bus {
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
  ) {}

  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const nc = await connect({
      servers: options.servers,
      name: options.name ?? 'courier-server',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    return new NatsBus(nc, options.subject);
  }

  async publish(signal: BusSignal): Promise<void> {
    this.nc.publish(this.subject, this.encoder.encode(JSON.stringify(signal)));
  }

  subscribe(handler: (signal: BusSignal) => void): void {
    const sub = this.nc.subscribe(this.subject);
    void (async () => {
      for await (const message of sub) {
        const signal = parseSignal(this.decoder.decode(message.data));
        if (signal) handler(signal);
      }
    })();
  }

  onResume(handler: () => void): void {
    void (async () => {
      for await (const status of this.nc.status()) {
        if (status.type === 'reconnect') handler();
      }
    })();
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}
