import { createServer, connect, type Server, type Socket } from 'node:net';

export type CensorMode = 'pass' | 'drop' | 'reset' | 'loss';

/**
 * The in-process stand-in for a censor on the path to one address, used where network namespaces
 * cannot be made: a TCP forwarder that passes traffic, silently drops it (packets vanish: open
 * connections stall, new ones never complete a handshake), resets it (TCP RST both ways), or loses
 * packets at random. Above TCP a lost packet is never a lost byte: it is a stall until the
 * retransmission, and everything behind it waits (head-of-line blocking). The loss mode does exactly
 * that to the byte stream: each chunk is "lost" with `lossRate` and the stream stalls for
 * `retransmitMs` before it (and what follows) goes through, in order.
 */
export class CensorProxy {
  private readonly server: Server;
  private modeValue: CensorMode = 'pass';
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private readonly sockets = new Set<Socket>();
  port = 0;
  /** How many times the loss mode stalled a stream (a "lost packet" awaiting retransmission). */
  stalls = 0;

  constructor(
    private readonly target: { host: string; port: number },
    private readonly loss = { lossRate: 0.05, retransmitMs: 200 },
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  get mode(): CensorMode {
    return this.modeValue;
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  set(mode: CensorMode): void {
    this.modeValue = mode;
    for (const pair of this.pairs) {
      if (mode === 'reset') {
        pair.client.resetAndDestroy();
        pair.upstream.resetAndDestroy();
      } else if (mode === 'drop') {
        // Nothing more gets through either way, and nobody is told.
        pair.client.pause();
        pair.upstream.pause();
      }
    }
  }

  private accept(client: Socket): void {
    client.on('error', () => {});
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    if (this.modeValue === 'reset') return void client.resetAndDestroy();
    if (this.modeValue === 'drop') {
      // A SYN that is dropped: the client's handshake never completes.
      client.pause();
      return;
    }
    const upstream = connect(this.target);
    upstream.on('error', () => client.destroy());
    const pair = { client, upstream };
    this.pairs.add(pair);
    const forget = () => this.pairs.delete(pair);
    client.on('close', () => {
      forget();
      if (this.modeValue !== 'drop') upstream.destroy();
    });
    upstream.on('close', () => {
      forget();
      if (this.modeValue !== 'drop') client.destroy();
    });
    this.forward(client, upstream);
    this.forward(upstream, client);
  }

  /** Copies one direction in order, with back-pressure; stalls on "lost" chunks in loss mode. */
  private forward(from: Socket, to: Socket): void {
    const queue: Buffer[] = [];
    let stalled = false;
    let ended = false;
    const flush = () => {
      while (queue.length > 0 && !stalled && this.modeValue !== 'drop') {
        if (this.modeValue === 'loss' && Math.random() < this.loss.lossRate) {
          stalled = true;
          this.stalls += 1;
          setTimeout(() => {
            stalled = false;
            if (!to.destroyed && queue.length > 0 && this.modeValue !== 'drop') to.write(queue.shift()!);
            flush();
          }, this.loss.retransmitMs);
          return;
        }
        if (!to.write(queue.shift()!)) from.pause();
      }
      if (ended && queue.length === 0 && !stalled) to.end();
    };
    from.on('data', (chunk: Buffer) => {
      if (this.modeValue === 'drop') return; // vanished
      queue.push(chunk);
      flush();
    });
    to.on('drain', () => {
      if (this.modeValue !== 'drop') from.resume();
    });
    from.on('end', () => {
      ended = true;
      flush();
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    await new Promise((resolve) => this.server.close(resolve));
  }
}
