import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryClientStore } from './client-store.ts';
import { CourierConnection } from './connection.ts';

// A server that accepts TCP but never answers the WebSocket upgrade: a socket to it stays connecting.
let server: Server;
let url = '';
beforeAll(async () => {
  server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => {
  server.close();
});

it('a connection stopped before its socket opened closes that socket quietly (no unhandled error)', async () => {
  const errors: unknown[] = [];
  const onError = (error: unknown) => errors.push(error);
  process.on('uncaughtException', onError);
  try {
    const connection = new CourierConnection({ url, token: 't', store: new MemoryClientStore() });
    connection.start();
    await connection.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(connection.state).toBe('stopped');
  } finally {
    process.off('uncaughtException', onError);
  }
  expect(errors).toEqual([]);
});
