/**
 * `npm run bench -- media [--size 1GB]`: an encrypted upload and download of one large file over
 * loopback through the SDK (AES-256-GCM chunks, tus upload, ranged streaming download), each way in
 * MB/s (target ≥ 150), the server's RSS growth while it streams (target ≤ 100 MB), the cipher alone,
 * and how soon a seek into the middle of the file yields its first plaintext bytes. Then its floor
 * in the same run (media-floor.ts): the same bytes through a bare HTTP server, and AES-256-GCM plus
 * SHA-256 alone; `*_vs_floor` are Courier's MB/s over the floor's.
 */
import { createHash } from 'node:crypto';
import {
  ChunkCipher,
  type PlaintextSource,
  describeUpload,
  downloadDecryptedFile,
  DEFAULT_UPLOAD_REQUEST_BYTES,
  EncryptingSource,
  generateFileKey,
  uploadEncryptedFile,
} from '@courier/sdk';
import type { BenchServer } from './bench-server.ts';
import { type Figure, progress, round } from './figure.ts';
import { measureMediaFloor, rawCryptoCpuMsPerMb } from './media-floor.ts';
import { cpuMicros, rssKib } from './server-proc.ts';

export const MEDIA_DEFAULTS = { size: 1_000_000_000, requestBytes: DEFAULT_UPLOAD_REQUEST_BYTES };

/** `200MB`, `1GB`, `1.5GB`, `5000000` → bytes (powers of 1000). */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?$/i.exec(text.trim());
  if (!match) throw new Error(`--size takes e.g. 200MB or 1GB, not ${text}`);
  const unit = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 }[(match[2] ?? 'B').toUpperCase() as 'B'];
  return Math.round(Number(match[1]) * unit);
}

/**
 * A large file made on the fly from 64 KiB of random bytes repeated (each chunk's ciphertext still
 * differs: its nonce does); no disk, no file-sized memory.
 */
function syntheticFile(size: number): PlaintextSource {
  const block = new Uint8Array(4 * 1024 * 1024);
  crypto.getRandomValues(block.subarray(0, 65_536));
  for (let i = 65_536; i < block.length; i += 65_536) block.copyWithin(i, 0, 65_536);
  const readInto = async (offset: number, out: Uint8Array) => {
    for (let at = 0; at < out.length; ) {
      const position = offset + at;
      const within = position % block.length;
      const take = Math.min(out.length - at, block.length - within);
      out.set(block.subarray(within, within + take), at);
      at += take;
    }
  };
  return {
    size,
    read: async (offset, length) => {
      const out = new Uint8Array(length);
      await readInto(offset, out);
      return out;
    },
    // As a file source with a reusable buffer reads (one copy per byte, as from the page cache).
    readInto,
  };
}

const MB = 1e6;

export async function runMediaBench(
  server: BenchServer,
  params: { size: number; requestBytes: number },
  storage: string,
): Promise<Figure[]> {
  const figure = (name: string, value: number | null, unit: string, extra: Partial<Figure> = {}): Figure => ({
    bench: 'media',
    figure: name,
    value,
    unit,
    params: { size: params.size, chunk: 65_536, request: params.requestBytes },
    storage,
    ...extra,
  });
  // The cipher alone, in this process (1/4 of the size, at most 256 MB).
  const cipherBytes = Math.min(256 * MB, Math.max(8 * MB, Math.floor(params.size / 4)));
  const sample = syntheticFile(cipherBytes);
  const cipher = await ChunkCipher.create(generateFileKey(), cipherBytes);
  const encrypting = new EncryptingSource(sample, cipher);
  // Warm-up (JIT, WebCrypto's thread pool) on a throwaway file, not measured.
  const warm = new EncryptingSource(sample, await ChunkCipher.create(generateFileKey(), 4 * MB));
  await warm.slice(0, warm.size);
  let started = performance.now();
  for (let at = 0; at < encrypting.size; at += 8 * 1024 * 1024)
    await encrypting.slice(at, at + 8 * 1024 * 1024);
  const encryptMbps = cipherBytes / MB / ((performance.now() - started) / 1000);
  progress(`media: AES-256-GCM chunks + SHA-256 alone ${round(encryptMbps)} MB/s`);

  const [alice, bob] = await server.register(2);
  const group = await alice!.http.createGroup('media bench', [bob!.accountId]);
  const file = syntheticFile(params.size);
  const rssBefore = rssKib(server.pid);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssKib(server.pid));
  }, 100);
  try {
    progress(`media: uploading ${round(params.size / MB)} MB`);
    let lastShown = 0;
    started = performance.now();
    // CPU time spent per MB (client: this process; server: its process): what a loaded machine's
    // wall-clock figures hide.
    let clientCpu = process.cpuUsage();
    let serverCpu = cpuMicros(server.pid);
    const uploaded = await uploadEncryptedFile(
      { baseUrl: server.url, token: alice!.token },
      group.groupId,
      file,
      {
        requestBytes: params.requestBytes,
        onProgress: (sent, total) => {
          if (sent - lastShown >= total / 10) {
            lastShown = sent;
            progress(`media: upload ${Math.round((sent / total) * 100)}%`);
          }
        },
      },
    );
    const uploadSeconds = (performance.now() - started) / 1000;
    const cpuMs = (since: NodeJS.CpuUsage) => {
      const used = process.cpuUsage(since);
      return (used.user + used.system) / 1000;
    };
    const uploadClientCpuMs = cpuMs(clientCpu);
    const uploadServerCpuMs = (cpuMicros(server.pid) - serverCpu) / 1000;
    const descriptor = describeUpload(uploaded, 'bench.bin', 'application/octet-stream');

    progress('media: downloading');
    started = performance.now();
    clientCpu = process.cpuUsage();
    serverCpu = cpuMicros(server.pid);
    let received = 0;
    const check = createHash('sha256');
    for await (const part of downloadDecryptedFile({ baseUrl: server.url, token: bob!.token }, descriptor)) {
      received += part.length;
      check.update(part);
    }
    const downloadSeconds = (performance.now() - started) / 1000;
    const downloadClientCpuMs = cpuMs(clientCpu);
    const downloadServerCpuMs = (cpuMicros(server.pid) - serverCpu) / 1000;
    if (received !== params.size) throw new Error(`downloaded ${received} of ${params.size} bytes`);

    // A seek to the middle, as a video player does: time to the first plaintext bytes.
    started = performance.now();
    const middle = Math.floor(params.size / 2);
    const reader = downloadDecryptedFile({ baseUrl: server.url, token: bob!.token }, descriptor, {
      range: { start: middle, end: Math.min(params.size, middle + 1_000_000) },
    }).getReader();
    await reader.read();
    const seekMs = performance.now() - started;
    await reader.cancel();
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, rssKib(server.pid));

    // The floor, right after, on the same machine: the same bytes through a bare HTTP server.
    progress('media: floor (bare HTTP server, no crypto) and raw AES-256-GCM + SHA-256');
    const floor = await measureMediaFloor(params.size, params.requestBytes);
    const rawCrypto = rawCryptoCpuMsPerMb(cipherBytes);
    const uploadMbps = params.size / MB / uploadSeconds;
    const downloadMbps = params.size / MB / downloadSeconds;
    return [
      figure('upload_mb_per_s', round(uploadMbps), 'MB/s', { target: '>= 150' }),
      figure('download_mb_per_s', round(downloadMbps), 'MB/s', { target: '>= 150' }),
      figure('server_rss_growth_mb', round(((rssPeak - rssBefore) * 1024) / MB), 'MB', { target: '<= 100' }),
      figure('seek_first_bytes_ms', round(seekMs), 'ms', { target: '<= 1000' }),
      figure('cipher_only_mb_per_s', round(encryptMbps), 'MB/s'),
      figure('upload_client_cpu_ms_per_mb', round(uploadClientCpuMs / (params.size / MB), 2), 'ms/MB'),
      figure('upload_server_cpu_ms_per_mb', round(uploadServerCpuMs / (params.size / MB), 2), 'ms/MB'),
      figure('download_client_cpu_ms_per_mb', round(downloadClientCpuMs / (params.size / MB), 2), 'ms/MB'),
      figure('download_server_cpu_ms_per_mb', round(downloadServerCpuMs / (params.size / MB), 2), 'ms/MB'),
      figure('floor_upload_mb_per_s', round(floor.uploadMbps), 'MB/s'),
      figure('floor_download_mb_per_s', round(floor.downloadMbps), 'MB/s'),
      figure('upload_vs_floor', round(uploadMbps / floor.uploadMbps, 2), 'ratio'),
      figure('download_vs_floor', round(downloadMbps / floor.downloadMbps, 2), 'ratio'),
      figure('floor_upload_client_cpu_ms_per_mb', round(floor.uploadClientCpuMsPerMb, 2), 'ms/MB'),
      figure('floor_upload_server_cpu_ms_per_mb', round(floor.uploadServerCpuMsPerMb, 2), 'ms/MB'),
      figure('floor_download_client_cpu_ms_per_mb', round(floor.downloadClientCpuMsPerMb, 2), 'ms/MB'),
      figure('floor_download_server_cpu_ms_per_mb', round(floor.downloadServerCpuMsPerMb, 2), 'ms/MB'),
      figure('raw_crypto_cpu_ms_per_mb', round(rawCrypto, 2), 'ms/MB'),
    ];
  } finally {
    clearInterval(sampler);
  }
}
