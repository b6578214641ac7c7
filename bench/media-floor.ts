/**
 * The floor of the `media` bench (issue 14): the same bytes over the same loopback and disk with
 * nothing of Courier in the way (bench/media-floor-server.ts: a bare HTTP server that appends PUT
 * bodies to a file and serves it back), sent the way tus-js-client sends them in Node (requests of
 * the same size, bodies written in 1 MiB pieces, one request at a time); and AES-256-GCM over 64 KiB
 * chunks plus SHA-256 of each, in one process, with no I/O. Courier's figures are read against these.
 */
import { spawn } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type RequestOptions, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMicros } from './server-proc.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const MB = 1e6;

export interface MediaFloor {
  uploadMbps: number;
  downloadMbps: number;
  uploadClientCpuMsPerMb: number;
  uploadServerCpuMsPerMb: number;
  downloadClientCpuMsPerMb: number;
  downloadServerCpuMsPerMb: number;
}

function put(port: number, offset: number, body: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path: `/blob?offset=${offset}`,
      headers: { 'content-length': String(body.length), 'content-type': 'application/offset+octet-stream' },
      // As tus-js-client's Node stack is set up (media-transfer.ts): 1 MiB pieces.
      writableHighWaterMark: 1024 * 1024,
    } as RequestOptions);
    req.once('error', reject);
    req.once('response', (response) => {
      response.resume();
      response.once('end', () =>
        response.statusCode === 204 ? resolve() : reject(new Error('floor PUT failed')),
      );
    });
    let at = 0;
    const next = () => {
      while (at < body.length) {
        const piece = body.subarray(at, at + 1024 * 1024);
        at += piece.length;
        if (!req.write(piece)) {
          req.once('drain', next);
          return;
        }
      }
      req.end();
    };
    next();
  });
}

/** Uploads and downloads `size` bytes through the bare server, in requests of `requestBytes`. */
export async function measureMediaFloor(size: number, requestBytes: number): Promise<MediaFloor> {
  const dir = mkdtempSync(join(tmpdir(), 'courier-media-floor-'));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/media-floor-server.ts'], {
    cwd: root,
    env: { ...process.env, MEDIA_FLOOR_PORT: String(port), MEDIA_FLOOR_FILE: join(dir, 'blob') },
    stdio: ['ignore', 'pipe', 2],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('exit', () => reject(new Error('the media floor server exited')));
      child.stdout?.once('data', () => resolve());
    });
    const body = new Uint8Array(randomBytes(requestBytes));
    let started = performance.now();
    let clientCpu = process.cpuUsage();
    let serverCpu = cpuMicros(child.pid as number);
    for (let at = 0; at < size; at += requestBytes)
      await put(port, at, body.subarray(0, Math.min(requestBytes, size - at)));
    const uploadSeconds = (performance.now() - started) / 1000;
    const cpuMs = (since: NodeJS.CpuUsage) => {
      const used = process.cpuUsage(since);
      return (used.user + used.system) / 1000;
    };
    const uploadClient = cpuMs(clientCpu);
    const uploadServer = (cpuMicros(child.pid as number) - serverCpu) / 1000;
    started = performance.now();
    clientCpu = process.cpuUsage();
    serverCpu = cpuMicros(child.pid as number);
    const response = await fetch(`http://127.0.0.1:${port}/blob`);
    let received = 0;
    for await (const part of response.body as ReadableStream<Uint8Array>) received += part.length;
    if (received !== size) throw new Error(`the floor served ${received} of ${size} bytes`);
    const downloadSeconds = (performance.now() - started) / 1000;
    const downloadClient = cpuMs(clientCpu);
    const downloadServer = (cpuMicros(child.pid as number) - serverCpu) / 1000;
    const mb = size / MB;
    return {
      uploadMbps: mb / uploadSeconds,
      downloadMbps: mb / downloadSeconds,
      uploadClientCpuMsPerMb: uploadClient / mb,
      uploadServerCpuMsPerMb: uploadServer / mb,
      downloadClientCpuMsPerMb: downloadClient / mb,
      downloadServerCpuMsPerMb: downloadServer / mb,
    };
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * CPU ms per MB of AES-256-GCM over 64 KiB chunks (a fresh cipher and nonce each) plus SHA-256 of
 * each chunk, in one process, from one 8 MiB buffer: what the cipher and digest alone cost.
 */
export function rawCryptoCpuMsPerMb(size: number): number {
  const key = randomBytes(32);
  const chunk = 65_536;
  const plain = new Uint8Array(randomBytes(8 * 1024 * 1024));
  const iv = Buffer.alloc(12);
  const used = process.cpuUsage();
  for (let done = 0, i = 0; done < size; i++) {
    const from = (i * chunk) % plain.length;
    const piece = plain.subarray(from, from + chunk);
    iv.writeUInt32BE(i, 4);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.update(piece);
    cipher.final();
    cipher.getAuthTag();
    createHash('sha256').update(piece).digest();
    done += piece.length;
  }
  const spent = process.cpuUsage(used);
  return (spent.user + spent.system) / 1000 / (size / MB);
}
