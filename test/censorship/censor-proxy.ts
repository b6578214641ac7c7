import { createServer, connect, type Server, type Socket } from 'node:net';

export type CensorMode = 'pass' | 'drop' | 'reset';

/**
 * The in-process stand-in for a censor on the path to one address, used where network namespaces
 * cannot be made: a TCP forwarder that passes traffic, silently drops it (packets vanish: open
 * connections stall, new ones never complete a handshake) or resets it (TCP RST both ways).
 */
export class CensorProxy {
  private readonly server: Server;
  private modeValue: CensorMode = 'pass';
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
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
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
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
    client.pipe(upstream);
    upstream.pipe(client);
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
