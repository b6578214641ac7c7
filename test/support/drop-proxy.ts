import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a server that counts the bytes clients send upstream and can cut every
 * open connection once a given number of upstream bytes has passed (a dropped connection mid-upload).
 */
export class DropProxy {
  upstreamBytes = 0;
  downstreamBytes = 0;
  private dropDownAt = Number.POSITIVE_INFINITY;
  drops = 0;
  /** Where the last drop happened, in upstream bytes. */
  droppedAt = 0;
  private dropAt = Number.POSITIVE_INFINITY;
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  url = '';

  constructor(private readonly target: { host: string; port: number }) {}

  /** Listens on `port` (0: any free port; the same port again to come back after `stop`). */
  async start(port = 0): Promise<string> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      this.sockets.add(client).add(upstream);
      const forget = () => {
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('data', (data: Buffer) => {
        this.upstreamBytes += data.length;
        upstream.write(data);
        if (this.upstreamBytes >= this.dropAt) {
          this.droppedAt = this.upstreamBytes;
          this.dropAt = Number.POSITIVE_INFINITY;
          this.drops += 1;
          for (const s of this.sockets) s.destroy();
        }
      });
      upstream.on('data', (data: Buffer) => {
        this.downstreamBytes += data.length;
        client.write(data);
        if (this.downstreamBytes >= this.dropDownAt) {
          this.dropDownAt = Number.POSITIVE_INFINITY;
          this.drops += 1;
          for (const s of this.sockets) s.destroy();
        }
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('error', forget);
      upstream.on('error', forget);
      client.on('close', forget);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${address.port}`;
    return this.url;
  }

  /** Cuts every connection once `bytes` more upstream bytes have passed (once). */
  dropAfter(bytes: number): void {
    this.dropAt = this.upstreamBytes + bytes;
  }

  /** Cuts every connection once `bytes` more downstream bytes (server to client) have passed (once). */
  dropDownstreamAfter(bytes: number): void {
    this.dropDownAt = this.downstreamBytes + bytes;
  }

  /** Cuts every open connection now (clients see their sockets close and may connect again). */
  cut(): void {
    this.drops += 1;
    for (const s of this.sockets) s.destroy();
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
