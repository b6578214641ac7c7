import {
  decodeServerFrame,
  encodeClientFrame,
  GATEWAY_PATH,
  PROTOCOL_VERSION,
  type ServerFrame,
} from '@courier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectDevice, nextPhone, startTestServer, type TestServer, text } from './support/harness.ts';

describe('a slow reader', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      config: { delivery: { highWaterBytes: 64 * 1024, lowWaterBytes: 16 * 1024, slowConsumerMs: 400 } },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('is paused, then disconnected with MSG_SLOW_CONSUMER, and later resumes without loss', async () => {
    const alice = await server.register(nextPhone());
    const bob = await server.register(nextPhone());
    const chat = await alice.http.openDirect(bob.accountId);
    const wsUrl = new URL(GATEWAY_PATH, server.url);
    wsUrl.protocol = 'ws:';
    const slow = new WebSocket(wsUrl, { perMessageDeflate: false });
    const frames: ServerFrame[] = [];
    slow.on('message', (d) => frames.push(decodeServerFrame(new Uint8Array(d as Buffer))));
    const closed = new Promise<number>((resolve) => slow.on('close', (code) => resolve(code)));
    await new Promise((r) => slow.once('open', r));
    slow.send(
      encodeClientFrame({
        type: 'hello',
        protocolVersion: PROTOCOL_VERSION,
        token: bob.token,
        client: 'slow',
      }),
    );
    while (!frames.some((f) => f.type === 'ready')) await new Promise((r) => setTimeout(r, 10));
    // Bob's device stops reading: the kernel buffers fill, then the server's window.
    (slow as unknown as { _socket: { pause(): void } })._socket.pause();

    const a = await connectDevice(server.url, alice);
    const big = new Uint8Array(256 * 1024).fill(7);
    const total = 60;
    for (let i = 0; i < total; i++) await a.connection.send(chat.groupId, big, `big-${i}`);
    // The server drops the stuck connection by itself (only Alice's remains)...
    const deadline = Date.now() + 10_000;
    while (server.app.gateway.connectionCount > 1 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(server.app.gateway.connectionCount).toBe(1);
    // ...having written no more than its window: far less than the 15 MiB sent.
    (slow as unknown as { _socket: { resume(): void } })._socket.resume();
    expect([4429, 1006]).toContain(await closed);
    const delivered = frames.filter((f) => f.type === 'entry').length;
    expect(delivered).toBeLessThan(total);

    const b = await connectDevice(server.url, bob);
    const got = await b.waitForMessages(total, 20_000);
    expect(got.map((e) => e.clientMsgId)).toEqual(Array.from({ length: total }, (_, i) => `big-${i}`));
    await a.connection.send(chat.groupId, text('after'));
    await b.waitForMessages(total + 1);
    await a.connection.stop();
    await b.connection.stop();
  });
});
