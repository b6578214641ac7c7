import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/** A host as a browser sends it (name or address, optional port): nothing that could break a header. */
const HOST = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

/**
 * The strict policy of the app: no inline script or style, scripts and workers from this origin only,
 * and network calls to this origin only (its HTTP API and its WebSocket, named explicitly because not
 * every browser counts ws: as 'self'), and to the endpoints of the signed list when the app fails over
 * (`endpoints`: their origins, as `endpointOrigins` gives them). Images and media may also be blob:
 * URLs, which only the page itself can make: previews and photos decrypted on the device, a voice
 * note, a video being sent.
 */
export function webAppCsp(host: string | undefined, endpoints: readonly string[] = []): string {
  const sockets = [
    ...(host !== undefined && HOST.test(host) ? [`ws://${host}`, `wss://${host}`] : []),
    ...endpoints,
  ]
    .map((source) => ` ${source}`)
    .join('');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "worker-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob:",
    "media-src 'self' blob:",
    `connect-src 'self'${sockets}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The origins a browser connects to for the endpoints of a signed list: each endpoint's host in its
 * socket form (ws:, wss:) and its HTTP form. Anything that is not a plain http(s)/ws(s) URL with a
 * well-formed host is left out (a list is signed by the operator, but a CSP header is no place to
 * find out what else it could hold).
 */
export function endpointOrigins(urls: readonly string[]): string[] {
  const out = new Set<string>();
  for (const text of urls) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      continue;
    }
    if (!HOST.test(url.host)) continue;
    const secure = url.protocol === 'https:' || url.protocol === 'wss:';
    if (!secure && url.protocol !== 'http:' && url.protocol !== 'ws:') continue;
    for (const scheme of secure ? ['wss', 'https'] : ['ws', 'http']) out.add(`${scheme}://${url.host}`);
  }
  return [...out];
}

/** What the app needs to fail over across the signed endpoint list (see config `endpoints.webKeys`). */
export interface WebAppEndpoints {
  /** The list-signing public keys the app pins (base64). */
  keys: readonly string[];
  /** The URLs of every endpoint the operator signed (read when a page is served: the list may change). */
  urls: () => readonly string[];
}

/** Where the built app lives (packages/web/dist, made by `npm run build:web`, run by prestart and the tests). */
export function webAppDist(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@courier/web/package.json')), 'dist');
}

/**
 * Serves the end-user web app (packages/web, built by Vite) at /: index.html is never cached (it
 * names the current assets), the content-hashed files under /assets are cached for a year. Files are
 * read once, when the server starts. Without a build the page says how to make one.
 */
export async function webAppRoutes(
  app: FastifyInstance,
  dist = webAppDist(),
  endpoints?: WebAppEndpoints,
): Promise<void> {
  const extraOrigins = () => {
    if (!endpoints) return [];
    try {
      return endpointOrigins(endpoints.urls());
    } catch (error) {
      // An unreadable bundle: /v1/endpoints says so; the app still works through this origin.
      app.log.warn({ err: error }, 'the endpoint bundle could not be read for the web app');
      return [];
    }
  };
  const headers = (reply: FastifyReply, request: FastifyRequest) =>
    reply
      .header('content-security-policy', webAppCsp(request.headers.host, extraOrigins()))
      .header('referrer-policy', 'no-referrer')
      .header('cross-origin-opener-policy', 'same-origin');

  if (!existsSync(join(dist, 'index.html'))) {
    app.log.warn({ dist }, 'the web app is not built: run `npm run build:web` (npm start does it)');
    const notBuilt = async (request: FastifyRequest, reply: FastifyReply) =>
      headers(reply, request)
        .code(503)
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .send('The Courier web app is not built on this server. Run `npm run build:web`, then restart.');
    app.get('/', notBuilt);
    app.get('/transparency', notBuilt);
    return;
  }
  // The pinned keys travel in the page itself (a meta element: no inline script), as a build of the
  // app for this deployment would carry them.
  const index = endpoints
    ? Buffer.from(
        readFileSync(join(dist, 'index.html'), 'utf8').replace(
          '</head>',
          `<meta name="courier-endpoint-keys" content="${endpoints.keys.join(',')}"></head>`,
        ),
      )
    : readFileSync(join(dist, 'index.html'));
  // The public transparency page: its own small entry of the same build (no SDK, no worker).
  const transparency = existsSync(join(dist, 'transparency.html'))
    ? readFileSync(join(dist, 'transparency.html'))
    : undefined;
  const assets = new Map<string, { type: string; body: Buffer }>();
  const assetDir = join(dist, 'assets');
  if (existsSync(assetDir)) {
    for (const name of readdirSync(assetDir)) {
      const type = TYPES[extname(name)];
      if (type !== undefined) assets.set(name, { type, body: readFileSync(join(assetDir, name)) });
    }
  }
  app.get('/', async (request, reply) =>
    headers(reply, request).type(TYPES['.html']!).header('cache-control', 'no-cache').send(index),
  );
  // A sticker pack's link opens the app, which offers to add the pack (issue 16).
  app.get<{ Params: { shortName: string } }>('/addstickers/:shortName', async (request, reply) =>
    headers(reply, request).type(TYPES['.html']!).header('cache-control', 'no-cache').send(index),
  );
  const transparencyPage = async (request: FastifyRequest, reply: FastifyReply) =>
    transparency === undefined
      ? reply.callNotFound()
      : headers(reply, request).type(TYPES['.html']!).header('cache-control', 'no-cache').send(transparency);
  app.get('/transparency', transparencyPage);
  app.get<{ Params: { period: string } }>('/transparency/:period', async (request, reply) =>
    /^\d{4}-H[12]$/.test(request.params.period) ? transparencyPage(request, reply) : reply.callNotFound(),
  );
  // The media service worker (packages/web/src/media/media-sw.ts): at the root, as its scope is /.
  const mediaWorker = existsSync(join(dist, 'media-sw.js'))
    ? readFileSync(join(dist, 'media-sw.js'))
    : undefined;
  if (mediaWorker !== undefined)
    app.get('/media-sw.js', async (request, reply) =>
      headers(reply, request).type(TYPES['.js']!).header('cache-control', 'no-cache').send(mediaWorker),
    );
  app.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
    const file = assets.get(request.params.name);
    if (file === undefined) return reply.callNotFound();
    return headers(reply, request)
      .type(file.type)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(file.body);
  });
}
