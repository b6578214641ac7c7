/**
 * The media service worker (served as /media-sw.js, scope /): it answers the requests a <video> or
 * <audio> makes for `/media-stream/<chat>/<message>` with plaintext decrypted by the device worker,
 * honouring HTTP Range, so that a video plays (and seeks) while its ciphertext still downloads.
 *
 * Why a service worker rather than MediaSource: the player keeps doing what it does with any URL
 * (buffering, seeking with range requests, any container the browser plays, MP4 with its index at
 * the end included), while MediaSource would need fragmented MP4 or WebM and code of ours that
 * parses containers. This file holds no key and decrypts nothing: each page gives it a MessagePort
 * to its device worker (media-stream.ts), and the bytes come back as a transferred ReadableStream,
 * pulled (fetched, decrypted) only as fast as the player reads.
 */
import { parseRange } from './byte-range.ts';

interface RangeReply {
  ok: boolean;
  code?: string;
  message?: string;
  mime?: string;
  size?: number;
  start?: number;
  end?: number;
  body?: ReadableStream<Uint8Array>;
}

interface FetchEventLike extends Event {
  request: Request;
  clientId: string;
  resultingClientId: string;
  respondWith(response: Promise<Response> | Response): void;
}

interface ExtendableEventLike extends Event {
  waitUntil(promise: Promise<unknown>): void;
}

interface ServiceWorkerScopeLike {
  addEventListener(type: 'fetch', listener: (event: FetchEventLike) => void): void;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEventLike) => void): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  skipWaiting(): Promise<void>;
  clients: {
    claim(): Promise<void>;
    get(id: string): Promise<{ postMessage(message: unknown): void } | undefined>;
  };
}

const scope = self as unknown as ServiceWorkerScopeLike;
const PREFIX = '/media-stream/';

/** Each page's port to its device worker, by client id. */
const ports = new Map<string, MessagePort>();
/** Pages asked for a port (after this worker was stopped and started again) and not answered yet. */
const waiting = new Map<string, ((port: MessagePort) => void)[]>();

scope.addEventListener('install', (event) => event.waitUntil(scope.skipWaiting()));
scope.addEventListener('activate', (event) => event.waitUntil(scope.clients.claim()));

scope.addEventListener('message', (event) => {
  const source = event.source as { id?: string } | null;
  const port = event.ports[0];
  if (event.data?.type !== 'courier-media-port' || !source?.id || !port) return;
  ports.set(source.id, port);
  for (const resolve of waiting.get(source.id) ?? []) resolve(port);
  waiting.delete(source.id);
});

async function portOf(clientId: string): Promise<MessagePort | undefined> {
  // A download the page started with a link is a navigation: it has no client of its own. Any page
  // of this origin holds the same device's worker; the one that gave its port last answers.
  if (!clientId) return [...ports.values()].at(-1);
  const known = ports.get(clientId);
  if (known) return known;
  const client = await scope.clients.get(clientId);
  if (!client) return undefined;
  return new Promise((resolve) => {
    const list = waiting.get(clientId) ?? [];
    list.push(resolve);
    waiting.set(clientId, list);
    client.postMessage({ type: 'courier-media-port-wanted' });
    setTimeout(() => resolve(undefined as unknown as MessagePort), 10_000);
  });
}

const problem = (status: number, text: string) =>
  new Response(text, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });

/** `attachment` with the file's name, plain ASCII and RFC 5987 (UTF-8) both. */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

async function answer(event: FetchEventLike, url: URL): Promise<Response> {
  const path = url.pathname;
  // `?download=<name>`: saved to disk as it arrives (a whole file, its digest checked at the end).
  const download = url.searchParams.get('download');
  const [groupId, messageKey] = path.slice(PREFIX.length).split('/').map(decodeURIComponent);
  if (!groupId || !messageKey) return problem(404, 'No such file.');
  const port = await portOf(event.clientId);
  if (!port) return problem(503, 'The page that plays this file is gone.');
  const range = download === null ? parseRange(event.request.headers.get('range')) : undefined;
  const channel = new MessageChannel();
  const reply = new Promise<RangeReply>((resolve) => {
    channel.port1.onmessage = (message: MessageEvent<RangeReply>) => resolve(message.data);
  });
  port.postMessage(
    {
      groupId,
      messageKey,
      start: range?.start ?? 0,
      ...(range?.end === undefined ? {} : { end: range.end }),
      reply: channel.port2,
    },
    [channel.port2],
  );
  const result = await reply;
  channel.port1.close();
  if (!result.ok || !result.body || result.size === undefined)
    return problem(result.code === 'MEDIA_NOT_FOUND' ? 404 : 502, result.message ?? 'The download failed.');
  const { size, start = 0, end = size } = result;
  if (range && start >= size && size > 0) {
    await result.body.cancel();
    return new Response(null, { status: 416, headers: { 'content-range': `bytes */${size}` } });
  }
  const headers: Record<string, string> = {
    'content-type': result.mime ?? 'application/octet-stream',
    'content-length': String(end - start),
    'accept-ranges': 'bytes',
    'cache-control': 'no-store',
  };
  if (range) headers['content-range'] = `bytes ${start}-${Math.max(start, end - 1)}/${size}`;
  if (download !== null) headers['content-disposition'] = attachment(download.slice(0, 255) || 'file');
  return new Response(result.body, { status: range ? 206 : 200, headers });
}

scope.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== location.origin || !url.pathname.startsWith(PREFIX) || event.request.method !== 'GET')
    return;
  event.respondWith(answer(event, url));
});
