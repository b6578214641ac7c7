/**
 * `npx tsx scripts/measure-prehello-memory.ts`: the server's resident memory while 16 strangers each
 * hold a 4 MiB WebSocket frame one byte short of complete, before any hello (issue 11, item 4).
 * Starts `courier-server serve` as a process (SQLite in a temporary folder) and prints one JSON line.
 * Behaviour is tested in test/connection-limits.test.ts; this only measures.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, killHard, spawnServer } from '../test/support/server-process.ts';

const STRANGERS = 16;
const FRAME_BYTES = 4 * 1024 * 1024;

const rssMiB = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS'));
  return Number(line?.split(/\s+/)[1]) / 1024;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Upgrades, then sends a frame header for FRAME_BYTES and all but one byte of its payload. */
function stranger(port: number, sockets: Socket[], closed: { count: number }): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      closed.count += 1;
      resolve();
    });
    let upgraded = false;
    socket.on('data', (d) => {
      if (upgraded || !String(d).startsWith('HTTP/1.1 101')) return;
      upgraded = true;
      const header = Buffer.alloc(14);
      header[0] = 0x82; // FIN, binary
      header[1] = 0x80 | 127; // masked (mask key 0), 64-bit length
      header.writeBigUInt64BE(BigInt(FRAME_BYTES), 2);
      socket.write(header);
      const chunk = Buffer.alloc(64 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < FRAME_BYTES - 1) {
          const n = Math.min(chunk.length, FRAME_BYTES - 1 - sent);
          sent += n;
          if (!socket.write(chunk.subarray(0, n))) return void socket.once('drain', pump);
        }
        resolve();
      };
      pump();
    });
    socket.write(
      'GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'courier-prehello-'));
  const config = join(dir, 'config.json');
  // A long hello timeout, so the frames are still held when memory is read.
  writeFileSync(config, JSON.stringify({ delivery: { helloTimeoutMs: 120_000 } }));
  const server = await spawnServer(
    {
      COURIER_CONFIG: config,
      COURIER_SQLITE_PATH: join(dir, 'courier.db'),
      COURIER_SMS_OUTBOX: join(dir, 'sms.jsonl'),
      COURIER_TRANSPARENCY_KEY: join(dir, 'transparency.key'),
      COURIER_CERTIFICATION_KEY: join(dir, 'certification.key'),
    },
    await freePort(),
  );
  const sockets: Socket[] = [];
  try {
    const pid = server.child.pid ?? 0;
    const port = Number(new URL(server.url).port);
    await sleep(2000);
    const before = rssMiB(pid);
    const closed = { count: 0 };
    await Promise.all(Array.from({ length: STRANGERS }, () => stranger(port, sockets, closed)));
    await sleep(3000);
    const during = rssMiB(pid);
    console.log(
      JSON.stringify({
        strangers: STRANGERS,
        frameBytes: FRAME_BYTES,
        rssBeforeMiB: Number(before.toFixed(1)),
        rssWithStrangersMiB: Number(during.toFixed(1)),
        deltaMiB: Number((during - before).toFixed(1)),
        closedByServer: closed.count,
      }),
    );
  } finally {
    for (const socket of sockets) socket.destroy();
    await killHard(server.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
