/**
 * The 300 MB proof of issue 14 (`npm run bench -- media --proof [--size 300MB]`; test/media-proof.test.ts
 * runs the same code at a small size): one member uploads a large file through a TCP proxy that drops
 * every connection halfway through; the upload resumes from the server's offset (it does not restart),
 * and the proxy's byte count shows how many bytes crossed twice. Another member's device then downloads
 * and decrypts it as a stream, and the SHA-256 of what it got equals the SHA-256 of what was sent.
 * Nothing holds the file in memory: the source makes its bytes on demand (AES-256-CTR keystream, so
 * every byte differs and any offset is reachable at once), the upload reads one request at a time and
 * the download is hashed as it arrives.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mediaCiphertextSize } from '@courier/protocol';
import {
  DEFAULT_UPLOAD_REQUEST_BYTES,
  describeUpload,
  downloadDecryptedFile,
  type PlaintextSource,
  uploadEncryptedFile,
} from '@courier/sdk';
import { DropProxy } from '../test/support/drop-proxy.ts';
import type { BenchServer } from './bench-server.ts';
import { type Figure, progress, round } from './figure.ts';

/**
 * A file of `size` bytes that is never stored anywhere: byte i is byte i of an AES-256-CTR keystream
 * under `seed`, so a read at any offset costs only its own length.
 */
export function keystreamFile(size: number, seed: Uint8Array = randomBytes(32)): PlaintextSource {
  return {
    size,
    read: async (offset, length) => {
      const end = Math.min(size, offset + length);
      const block = Math.floor(offset / 16);
      const skip = offset - block * 16;
      const iv = Buffer.alloc(16);
      iv.writeBigUInt64BE(BigInt(block), 8);
      const cipher = createCipheriv('aes-256-ctr', seed, iv);
      const out = cipher.update(Buffer.alloc(skip + end - offset));
      return new Uint8Array(out.buffer, out.byteOffset + skip, end - offset);
    },
  };
}

/** SHA-256 of a source, read in 8 MiB pieces. */
export async function sourceDigest(source: PlaintextSource): Promise<string> {
  const hash = createHash('sha256');
  for (let at = 0; at < source.size; at += 8 * 1024 * 1024)
    hash.update(await source.read(at, Math.min(8 * 1024 * 1024, source.size - at)));
  return hash.digest('hex');
}

export interface MediaProofOptions {
  /** The server's base URL (the proxy goes in front of it). */
  baseUrl: string;
  /** The member who uploads, and another member's device that downloads. */
  uploaderToken: string;
  downloaderToken: string;
  /** A chat both are in. */
  groupId: string;
  size: number;
  /** Where the connection is cut, as a share of the ciphertext (default one half). */
  dropAt?: number;
  onProgress?: (message: string) => void;
}

export interface MediaProofOutcome {
  size: number;
  cipherSize: number;
  /** Connections the proxy cut (1: the one drop in the middle). */
  drops: number;
  /** Upstream bytes that had crossed the proxy when it cut. */
  droppedAt: number;
  /** Bytes that crossed the proxy beyond the ciphertext once: resent after the drop, plus HTTP heads. */
  sentTwice: number;
  /** One upload request's bytes: what a resumed upload may resend at most. */
  requestBytes: number;
  /** The SHA-256 of the file sent, and of what the other device decrypted. */
  sentSha256: string;
  receivedSha256: string;
  receivedBytes: number;
  uploadSeconds: number;
  downloadSeconds: number;
  /** This process's resident memory growth over the run. */
  clientRssGrowthBytes: number;
}

export async function mediaProof(options: MediaProofOptions): Promise<MediaProofOutcome> {
  const say = options.onProgress ?? (() => {});
  const file = keystreamFile(options.size);
  const cipherSize = mediaCiphertextSize(options.size);
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 100);
  const url = new URL(options.baseUrl);
  const proxy = new DropProxy({ host: url.hostname, port: Number(url.port) });
  await proxy.start();
  try {
    proxy.dropAfter(Math.floor(cipherSize * (options.dropAt ?? 0.5)));
    let shown = 0;
    let started = performance.now();
    const uploaded = await uploadEncryptedFile(
      { baseUrl: proxy.url, token: options.uploaderToken },
      options.groupId,
      file,
      {
        retryDelays: [0, 100, 500, 1000, 2000],
        onProgress: (sent, total) => {
          if (sent - shown >= total / 10) {
            shown = sent;
            say(
              `upload ${Math.round((sent / total) * 100)}% (${proxy.drops} drop${proxy.drops === 1 ? '' : 's'})`,
            );
          }
        },
      },
    );
    const uploadSeconds = (performance.now() - started) / 1000;
    const sentTwice = proxy.upstreamBytes - cipherSize;
    say(`uploaded; the proxy cut at ${proxy.droppedAt} bytes; ${sentTwice} bytes crossed twice`);

    const descriptor = describeUpload(uploaded, 'proof.bin', 'video/mp4');
    const received = createHash('sha256');
    let receivedBytes = 0;
    started = performance.now();
    for await (const part of downloadDecryptedFile(
      { baseUrl: options.baseUrl, token: options.downloaderToken },
      descriptor,
    )) {
      received.update(part);
      receivedBytes += part.length;
    }
    const downloadSeconds = (performance.now() - started) / 1000;
    say('downloaded; hashing what was sent');
    const sentSha256 = await sourceDigest(file);
    return {
      size: options.size,
      cipherSize,
      drops: proxy.drops,
      droppedAt: proxy.droppedAt,
      sentTwice,
      requestBytes: DEFAULT_UPLOAD_REQUEST_BYTES,
      sentSha256,
      receivedSha256: received.digest('hex'),
      receivedBytes,
      uploadSeconds,
      downloadSeconds,
      clientRssGrowthBytes: Math.max(rssPeak, process.memoryUsage().rss) - rssBefore,
    };
  } finally {
    clearInterval(sampler);
    await proxy.stop();
  }
}

export const MEDIA_PROOF_DEFAULTS = { size: 300_000_000 };

/** The proof as bench figures: two members of a fresh server, one chat. */
export async function runMediaProofBench(
  server: Pick<BenchServer, 'url' | 'register'>,
  params: { size: number },
  storage: string,
): Promise<Figure[]> {
  const [alice, bob] = await server.register(2);
  const group = await alice!.http.createGroup('media proof', [bob!.accountId]);
  const outcome = await mediaProof({
    baseUrl: server.url,
    uploaderToken: alice!.token,
    downloaderToken: bob!.token,
    groupId: group.groupId,
    size: params.size,
    onProgress: (message) => progress(`media proof: ${message}`),
  });
  const identical = outcome.receivedBytes === outcome.size && outcome.receivedSha256 === outcome.sentSha256;
  progress(
    `media proof: ${outcome.size} bytes, cut once at ${outcome.droppedAt} of ${outcome.cipherSize}; ${outcome.sentTwice} bytes sent twice (one request is ${outcome.requestBytes}); sha256 sent ${outcome.sentSha256}, received ${outcome.receivedSha256}: ${identical ? 'identical' : 'DIFFERENT'}`,
  );
  const figure = (name: string, value: number | null, unit: string, extra: Partial<Figure> = {}): Figure => ({
    bench: 'media',
    figure: name,
    value,
    unit,
    params: { size: params.size, proof: true, dropAt: 0.5 },
    storage,
    ...extra,
  });
  return [
    figure('proof_drops', outcome.drops, 'count', { target: '= 1' }),
    figure('proof_bytes_sent_twice', outcome.sentTwice, 'B', { target: `< ${outcome.requestBytes}` }),
    figure('proof_bytes_identical', identical ? 1 : 0, 'bool', { target: '= 1' }),
    figure('proof_upload_mb_per_s', round(outcome.size / 1e6 / outcome.uploadSeconds), 'MB/s'),
    figure('proof_download_mb_per_s', round(outcome.size / 1e6 / outcome.downloadSeconds), 'MB/s'),
    figure('proof_client_rss_growth_mb', round(outcome.clientRssGrowthBytes / 1e6), 'MB'),
  ];
}
