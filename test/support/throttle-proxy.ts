import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a server that can slow either direction down to a number of bytes per
 * second (a slow network, so a browser test can watch a transfer while it is under way) and counts
 * the bytes that passed each way.
 */
export class ThrottleProxy {
  upstreamBytes = 0;
  downstreamBytes = 0;
  /** Bytes per second, per connection; undefined: full speed. */
  upRate: number | undefined;
  downRate: number | undefined;
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  url = '';

  constructor(private readonly target: { host: string; port: number }) {}

  private pipe(from: Socket, to: Socket, rate: () => number | undefined, count: (n: number) => void): void {
    from.on('data', (data: Buffer) => {
      count(data.length);
      to.write(data);
      const bytesPerSecond = rate();
      if (bytesPerSecond === undefined) return;
      from.pause();
      setTimeout(() => from.resume(), Math.ceil((data.length / bytesPerSecond) * 1000));
    });
  }

  async start(): Promise<string> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      this.sockets.add(client).add(upstream);
      const forget = () => {
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      this.pipe(
        client,
        upstream,
        () => this.upRate,
        (n) => (this.upstreamBytes += n),
      );
      this.pipe(
        upstream,
        client,
        () => this.downRate,
        (n) => (this.downstreamBytes += n),
      );
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('error', forget);
      upstream.on('error', forget);
      client.on('close', forget);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${address.port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
