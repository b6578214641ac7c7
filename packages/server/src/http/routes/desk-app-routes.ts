import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/**
 * The desk's policy: nothing inline, everything from this origin, no frames, no plugins, and calls
 * only to this origin (the desk API and the public log). Stricter than the web app's: no workers,
 * no WebSocket.
 */
export const DESK_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "worker-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Where the built desk lives (packages/desk/dist, made by scripts/build-web.ts with the web app). */
export function deskAppDist(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@courier/desk/package.json')), 'dist');
}

/**
 * Serves the desk app (packages/desk, Preact built by Vite) at /desk: a separate page, never part
 * of the public app. index.html is never stored (it names the current assets and the desk is for
 * staff sessions); the content-hashed files under /desk/assets are cached for a year. Files are
 * read once, when the server starts. Without a build the page says how to make one.
 */
export async function deskAppRoutes(app: FastifyInstance, dist = deskAppDist()): Promise<void> {
  const headers = (reply: FastifyReply) =>
    reply
      .header('content-security-policy', DESK_CSP)
      .header('referrer-policy', 'no-referrer')
      .header('cross-origin-opener-policy', 'same-origin')
      .header('x-content-type-options', 'nosniff');

  if (!existsSync(join(dist, 'index.html'))) {
    app.log.warn({ dist }, 'the legal desk is not built: run `npm run build:web` (npm start does it)');
    const notBuilt = async (_request: unknown, reply: FastifyReply) =>
      headers(reply)
        .code(503)
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .send('The Courier legal desk is not built on this server. Run `npm run build:web`, then restart.');
    app.get('/desk', notBuilt);
    app.get('/desk/', notBuilt);
    return;
  }
  const index = readFileSync(join(dist, 'index.html'));
  const assets = new Map<string, { type: string; body: Buffer }>();
  const assetDir = join(dist, 'assets');
  if (existsSync(assetDir)) {
    for (const name of readdirSync(assetDir)) {
      const type = TYPES[extname(name)];
      if (type !== undefined) assets.set(name, { type, body: readFileSync(join(assetDir, name)) });
    }
  }
  const page = async (_request: unknown, reply: FastifyReply) =>
    headers(reply).type(TYPES['.html']!).header('cache-control', 'no-store').send(index);
  app.get('/desk', page);
  app.get('/desk/', page);
  app.get<{ Params: { name: string } }>('/desk/assets/:name', async (request, reply) => {
    const file = assets.get(request.params.name);
    if (file === undefined) return reply.callNotFound();
    return headers(reply)
      .type(file.type)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(file.body);
  });
}
