import { connect, createServer } from 'node:net';
import { expect, it } from 'vitest';
import { CensorProxy } from './censor-proxy.ts';

it('the in-process censor loses "packets" the way TCP shows it: stalls, but every byte arrives, in order', async () => {
  const echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const proxy = new CensorProxy(
    { host: '127.0.0.1', port: (echo.address() as { port: number }).port },
    { lossRate: 0.2, retransmitMs: 20 },
  );
  const port = await proxy.start();
  proxy.set('loss');
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const lines = Array.from({ length: 300 }, (_, i) => `line ${i}\n`);
  let received = '';
  socket.on('data', (chunk) => {
    received += String(chunk);
  });
  for (const line of lines) {
    socket.write(line);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const expected = lines.join('');
  const deadline = Date.now() + 20_000;
  while (received.length < expected.length && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  expect(received).toBe(expected);
  expect(proxy.stalls).toBeGreaterThan(0);
  socket.destroy();
  await proxy.close();
  await new Promise((resolve) => echo.close(resolve));
});
