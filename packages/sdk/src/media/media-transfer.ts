import {
  CourierError,
  decodeBase64,
  type ErrorEnvelope,
  encodeBase64,
  isErrorCode,
  MEDIA_BLOB_PATH,
  MEDIA_CHANNEL_METADATA_KEY,
  MEDIA_CHUNK_CIPHERTEXT_BYTES,
  MEDIA_GROUP_METADATA_KEY,
  MEDIA_UPLOAD_PATH,
} from '@courier/protocol';
import type { DetailedError } from 'tus-js-client';
import { ChunkCipher, generateFileKey } from './chunk-cipher.ts';
import { ChunkDecryptor } from './chunk-decryptor.ts';
import { ChunkDigest } from './chunk-digest.ts';
import { chunkRangeFor } from './chunk-range.ts';
import { EncryptingSource } from './encrypting-source.ts';
import type { FileDescriptor } from './file-descriptor.ts';
import type { PlaintextSource } from './plaintext-source.ts';

/** Where and as whom: the server's base URL and a session token. */
export interface MediaEndpoint {
  baseUrl: string;
  token: string;
}

/** Bytes of ciphertext per PATCH request: 128 chunks (8 MiB); a dropped request resends at most this. */
export const DEFAULT_UPLOAD_REQUEST_BYTES = 128 * MEDIA_CHUNK_CIPHERTEXT_BYTES;
const DEFAULT_RETRY_DELAYS = [0, 250, 1000, 3000, 5000, 10_000];
/** Bytes handed to the socket at a time while a request body goes out (Node). */
const UPLOAD_WRITE_BYTES = 1024 * 1024;

export interface UploadOptions {
  onProgress?: (sentBytes: number, totalBytes: number) => void;
  signal?: AbortSignal;
  /**
   * Continue an upload started earlier (e.g. before a restart): its URL and key, as handed to
   * `onStarted`. The same source must be given again.
   */
  resume?: { uploadUrl: string; key: Uint8Array };
  /**
   * The file key to encrypt with when not resuming (default a fresh one): a caller that keeps the
   * key before the upload is created can start it again with the same ciphertext. Never give one
   * key to two different files.
   */
  key?: Uint8Array;
  /** Called once the server created the upload: persist these to resume after a restart. */
  onStarted?: (started: { uploadUrl: string; key: Uint8Array }) => void;
  requestBytes?: number;
  retryDelays?: number[];
}

export interface UploadedBlob {
  blobId: string;
  key: Uint8Array;
  /** The file's digest (chunk-digest.ts): SHA-256 over its chunks' SHA-256. */
  digest: Uint8Array;
  size: number;
}

/** The typed error a failed tus or download request carries (the server's envelope when it sent one). */
function typedError(error: unknown): CourierError {
  if (error instanceof CourierError) return error;
  const body = (error as DetailedError).originalResponse?.getBody?.();
  if (body) {
    try {
      const envelope = JSON.parse(body) as Partial<ErrorEnvelope>;
      if (isErrorCode(envelope.error?.code))
        return new CourierError(envelope.error.code, { message: envelope.error.message });
    } catch {
      // not an envelope
    }
  }
  // The message only: a tus error drags its whole request and socket along.
  return new CourierError('SERVER_UNAVAILABLE', {
    message: `The upload failed: ${(error as Error).message}`,
  });
}

/**
 * Encrypts a file with a fresh key and uploads the ciphertext to a chat with tus: resumable after a
 * dropped connection (retries ask the server for its offset and go on from there) and after a
 * restart (`resume`). Only the chat id travels in the clear; name, type and key stay with the caller,
 * who sends them inside the MLS message.
 */
export function uploadEncryptedFile(
  endpoint: MediaEndpoint,
  groupId: string,
  source: PlaintextSource,
  options: UploadOptions = {},
): Promise<UploadedBlob> {
  return uploadWith(endpoint, { [MEDIA_GROUP_METADATA_KEY]: groupId }, source, options);
}

/**
 * Encrypts a file and uploads it for a post of a channel this account owns or administers (issue
 * 16), as `uploadEncryptedFile` does for a chat: the key, digest and name then go inside the signed
 * post (`ChannelClient.postFile`), so subscribers can read it and the server cannot swap it.
 */
export function uploadEncryptedChannelFile(
  endpoint: MediaEndpoint,
  channelId: string,
  source: PlaintextSource,
  options: UploadOptions = {},
): Promise<UploadedBlob> {
  return uploadWith(endpoint, { [MEDIA_CHANNEL_METADATA_KEY]: channelId }, source, options);
}

async function uploadWith(
  endpoint: MediaEndpoint,
  metadata: Record<string, string>,
  source: PlaintextSource,
  options: UploadOptions,
): Promise<UploadedBlob> {
  const key = options.resume?.key ?? options.key ?? generateFileKey();
  const cipher = await ChunkCipher.create(key, source.size);
  const encrypting = new EncryptingSource(source, cipher);
  // Loaded when a file is sent: evaluating tus-js-client (and its dependencies) costs every other
  // short CLI command and the app's first load ~100 ms.
  // As a CommonJS module in a bundle (the courier command), its exports may sit under `default`.
  const tus: Partial<typeof import('tus-js-client')> & { default?: typeof import('tus-js-client') } =
    await import('tus-js-client');
  const Upload = tus.Upload ?? tus.default!.Upload;
  const HttpStack = tus.DefaultHttpStack ?? tus.default!.DefaultHttpStack;
  const uploadUrl = await new Promise<string>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new CourierError('MEDIA_CANCELLED'));
      return;
    }
    const upload = new Upload(encrypting as unknown as Blob, {
      endpoint: new URL(MEDIA_UPLOAD_PATH, endpoint.baseUrl).href,
      ...(options.resume ? { uploadUrl: options.resume.uploadUrl } : {}),
      uploadSize: encrypting.size,
      chunkSize: options.requestBytes ?? DEFAULT_UPLOAD_REQUEST_BYTES,
      retryDelays: options.retryDelays ?? DEFAULT_RETRY_DELAYS,
      metadata,
      headers: { authorization: `Bearer ${endpoint.token}` },
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: false,
      fileReader: { openFile: async () => encrypting },
      // In Node, tus writes a request body in pieces of the socket's high-water mark (16 KiB by
      // default: 512 writes and drains per request, and as many small writes on the server's disk).
      // 1 MiB pieces; the browser's stack (XMLHttpRequest) takes no options.
      httpStack: new HttpStack({ writableHighWaterMark: UPLOAD_WRITE_BYTES }),
      onShouldRetry: (error) => {
        const status = error.originalResponse?.getStatus() ?? 0;
        // No reply (a dropped connection) or a server hiccup: ask for the offset and go on.
        return status === 0 || status >= 500 || status === 409 || status === 423;
      },
      onUploadUrlAvailable: () => {
        if (upload.url) options.onStarted?.({ uploadUrl: upload.url, key });
      },
      onProgress: (sent, total) => options.onProgress?.(sent, total),
      onError: (error) => reject(typedError(error)),
      onSuccess: () => resolve(upload.url as string),
    });
    options.signal?.addEventListener(
      'abort',
      () => {
        void upload.abort(false).finally(() => reject(new CourierError('MEDIA_CANCELLED')));
      },
      { once: true },
    );
    upload.start();
  });
  const blobId = new URL(uploadUrl).pathname.split('/').at(-1) as string;
  return { blobId, key, digest: await encrypting.digest(), size: source.size };
}

/**
 * Deletes an upload that will not be finished (tus termination): its bytes and its record go from
 * the server at once instead of at the next cleanup. An upload that is gone already is no error; one
 * still busy with the request just aborted (423) is asked again.
 */
export async function deleteUpload(endpoint: MediaEndpoint, uploadUrl: string): Promise<void> {
  for (const delay of [0, 250, 1000, 3000, 5000, 10_000]) {
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    let response: Response;
    try {
      response = await fetch(new URL(uploadUrl, endpoint.baseUrl), {
        method: 'DELETE',
        headers: { authorization: `Bearer ${endpoint.token}`, 'tus-resumable': '1.0.0' },
      });
    } catch {
      continue;
    }
    if (response.ok || response.status === 404 || response.status === 410) return;
    if (response.status !== 423 && response.status < 500) throw await replyError(response);
  }
  throw new CourierError('SERVER_UNAVAILABLE', { message: 'The upload could not be deleted.' });
}

/** A descriptor for a file just uploaded (add `width`, `height`, `durationMs`, `preview` as known). */
export function describeUpload(uploaded: UploadedBlob, name: string, mime: string): FileDescriptor {
  return {
    blobId: uploaded.blobId,
    key: encodeBase64(uploaded.key),
    digest: encodeBase64(uploaded.digest),
    size: uploaded.size,
    mime,
    name,
  };
}

export interface DownloadOptions {
  /** Plaintext bytes [start, end) only (seeking); default the whole file, then the digest is checked. */
  range?: { start: number; end: number };
  onProgress?: (receivedBytes: number, totalBytes: number) => void;
  signal?: AbortSignal;
  /** Times a dropped download is resumed (from the first chunk not yet delivered). */
  retries?: number;
  /** Wait between retries. */
  retryDelayMs?: number;
}

async function replyError(response: Response): Promise<CourierError> {
  try {
    const envelope = (await response.json()) as Partial<ErrorEnvelope>;
    if (isErrorCode(envelope.error?.code))
      return new CourierError(envelope.error.code, { message: envelope.error.message });
  } catch {
    // not an envelope
  }
  return new CourierError(response.status >= 500 ? 'SERVER_UNAVAILABLE' : 'REQ_INVALID', {
    message: `The download failed (${response.status}).`,
  });
}

/**
 * Downloads a file's ciphertext and decrypts it as it arrives: a stream of plaintext that starts
 * with the first chunk, holds at most one chunk in memory, resumes a dropped connection from the
 * next chunk, and fails with MEDIA_INTEGRITY_FAILED on a changed, reordered or truncated chunk (or,
 * for a whole file, a digest that does not match).
 */
export function downloadDecryptedFile(
  endpoint: MediaEndpoint,
  file: FileDescriptor,
  options: DownloadOptions = {},
): ReadableStream<Uint8Array> {
  const key = decodeBase64(file.key);
  const digest = decodeBase64(file.digest);
  const whole = options.range === undefined;
  const { start, end } = options.range ?? { start: 0, end: file.size };
  const range = chunkRangeFor(file.size, start, end);
  const hash = whole ? new ChunkDigest() : undefined;
  const retries = options.retries ?? 5;
  let decryptor: ChunkDecryptor | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let skip = range.skip;
  let remaining = range.length;
  let delivered = 0;
  let failures = 0;
  const controller = new AbortController();
  options.signal?.addEventListener('abort', () => controller.abort(), { once: true });

  const open = async () => {
    if (!decryptor) {
      if (key?.length !== 32 || !digest)
        throw new CourierError('MLS_MALFORMED', { message: 'The file key or digest is malformed.' });
      decryptor = new ChunkDecryptor(
        await ChunkCipher.create(key, file.size),
        range.firstChunk,
        range.endChunk,
      );
    }
    decryptor.discardPartial();
    const from = decryptor.nextChunk * MEDIA_CHUNK_CIPHERTEXT_BYTES;
    let response: Response;
    try {
      response = await fetch(new URL(`${MEDIA_BLOB_PATH}/${file.blobId}`, endpoint.baseUrl), {
        headers: { authorization: `Bearer ${endpoint.token}`, range: `bytes=${from}-${range.cipherEnd - 1}` },
        signal: controller.signal,
      });
    } catch (cause) {
      if (controller.signal.aborted) throw new CourierError('MEDIA_CANCELLED', { cause });
      throw new CourierError('SERVER_UNAVAILABLE', { message: `Cannot reach ${endpoint.baseUrl}`, cause });
    }
    if (response.status !== 206 && response.status !== 200) throw await replyError(response);
    if (!response.body)
      throw new CourierError('SERVER_UNAVAILABLE', { message: 'The download has no body.' });
    reader = response.body.getReader();
  };

  return new ReadableStream<Uint8Array>({
    async pull(out) {
      for (;;) {
        if (!reader) await open();
        let step: ReadableStreamReadResult<Uint8Array>;
        try {
          step = await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
        } catch (cause) {
          reader = undefined;
          if (controller.signal.aborted) throw new CourierError('MEDIA_CANCELLED', { cause });
          failures += 1;
          if (failures > retries)
            throw new CourierError('SERVER_UNAVAILABLE', { message: 'The download kept failing.', cause });
          await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 250));
          continue;
        }
        const d = decryptor as ChunkDecryptor;
        if (step.done) {
          d.finish();
          if (hash && digest && !equal(hash.digest(), digest))
            throw new CourierError('MEDIA_INTEGRITY_FAILED', {
              message: 'The file does not match its digest.',
            });
          out.close();
          return;
        }
        const chunks = await d.push(step.value);
        if (chunks.length === 0) continue;
        for (const chunk of chunks) {
          await hash?.add(hash.next, chunk);
          let part = chunk;
          if (skip > 0) {
            part = part.subarray(Math.min(skip, part.length));
            skip -= chunk.length - part.length;
          }
          if (part.length > remaining) part = part.subarray(0, remaining);
          remaining -= part.length;
          delivered += part.length;
          if (part.length > 0) out.enqueue(part);
        }
        options.onProgress?.(delivered, range.length);
        return;
      }
    },
    cancel() {
      controller.abort();
    },
  });
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
