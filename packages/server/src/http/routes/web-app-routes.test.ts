import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { endpointOrigins, type WebAppEndpoints, webAppCsp, webAppRoutes } from './web-app-routes.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function appWith(files: Record<string, string> | undefined, endpoints?: WebAppEndpoints) {
  const dist = mkdtempSync(join(tmpdir(), 'courier-web-dist-'));
  dirs.push(dist);
  if (files) {
    mkdirSync(join(dist, 'assets'));
    for (const [name, body] of Object.entries(files)) writeFileSync(join(dist, name), body);
  }
  const app = Fastify();
  await app.register((scope) => webAppRoutes(scope, dist, endpoints));
  return app;
}

describe('the web app routes', () => {
  it('serves index.html uncached and hashed assets cached for a year, under a strict CSP', async () => {
    const app = await appWith({
      'index.html': '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>',
      'assets/index-abc123.js': 'console.log(1)',
      'assets/index-abc123.css': 'body{}',
      'assets/notes.txt': 'not served',
    });
    const index = await app.inject({ url: '/', headers: { host: 'chat.example:8080' } });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['cache-control']).toBe('no-cache');
    const csp = String(index.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("worker-src 'self'");
    expect(csp).toContain("connect-src 'self' ws://chat.example:8080 wss://chat.example:8080");
    expect(csp).not.toContain('unsafe-inline');

    const script = await app.inject({ url: '/assets/index-abc123.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(script.body).toBe('console.log(1)');
    expect((await app.inject({ url: '/assets/index-abc123.css' })).headers['content-type']).toBe(
      'text/css; charset=utf-8',
    );
    // Only files of known types from the build, never anything else.
    expect((await app.inject({ url: '/assets/notes.txt' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/assets/..%2Findex.html' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/assets/missing-000.js' })).statusCode).toBe(404);
    await app.close();
  });

  it('serves the media service worker at the root, uncached, and lets images and media be blob: URLs', async () => {
    const app = await appWith({ 'index.html': '<!doctype html>', 'media-sw.js': 'self.x = 1' });
    const worker = await app.inject({ url: '/media-sw.js' });
    expect(worker.statusCode).toBe(200);
    expect(worker.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(worker.headers['cache-control']).toBe('no-cache');
    expect(worker.body).toBe('self.x = 1');
    const csp = String(worker.headers['content-security-policy']);
    expect(csp).toContain("img-src 'self' blob:");
    expect(csp).toContain("media-src 'self' blob:");
    expect(csp).not.toContain('data:');
    await app.close();
    // A build without it (an older one) does not answer the name.
    const older = await appWith({ 'index.html': '<!doctype html>' });
    expect((await older.inject({ url: '/media-sw.js' })).statusCode).toBe(404);
    await older.close();
  });

  it('says how to build the app when there is no build, without failing to start', async () => {
    const app = await appWith(undefined);
    for (const url of ['/', '/transparency']) {
      const reply = await app.inject({ url });
      expect(reply.statusCode).toBe(503);
      expect(reply.body).toContain('npm run build:web');
    }
    await app.close();
  });

  it('serves the transparency page at /transparency and /transparency/<half-year>, nothing else', async () => {
    const page = '<!doctype html><script type="module" src="/assets/transparency-abc.js"></script>';
    const app = await appWith({ 'index.html': '<!doctype html>', 'transparency.html': page });
    for (const url of ['/transparency', '/transparency/2026-H1', '/transparency/2031-H2']) {
      const reply = await app.inject({ url });
      expect(reply.statusCode, url).toBe(200);
      expect(reply.body).toBe(page);
      expect(reply.headers['cache-control']).toBe('no-cache');
      expect(String(reply.headers['content-security-policy'])).toContain("script-src 'self'");
    }
    for (const url of [
      '/transparency/2026-H3',
      '/transparency/2026-Q1',
      '/transparency/x',
      '/transparency/..%2Findex.html',
    ])
      expect((await app.inject({ url })).statusCode, url).toBe(404);
    await app.close();
    // A build without the page (an older one) leaves /transparency unanswered rather than broken.
    const older = await appWith({ 'index.html': '<!doctype html>' });
    expect((await older.inject({ url: '/transparency' })).statusCode).toBe(404);
    await older.close();
  });

  it('names the WebSocket origin only for a well-formed Host header', () => {
    fc.assert(
      fc.property(fc.string(), (host) => {
        const csp = webAppCsp(host);
        // Whatever the header holds, the policy stays one line of known directives.
        expect(csp).not.toMatch(/[\r\n]/);
        expect(csp.split('; ').map((d) => d.split(' ')[0])).toEqual([
          'default-src',
          'script-src',
          'worker-src',
          'style-src',
          'img-src',
          'media-src',
          'connect-src',
          'object-src',
          'base-uri',
          'form-action',
          'frame-ancestors',
        ]);
        if (/[;\s'"]/.test(host)) expect(csp).toContain("connect-src 'self';");
      }),
    );
    expect(webAppCsp('[::1]:8080')).toContain('ws://[::1]:8080 wss://[::1]:8080');
    expect(webAppCsp(undefined)).toContain("connect-src 'self';");
  });

  it('with pinned endpoint keys: the page carries them, and its policy lets it reach the signed endpoints', async () => {
    let urls = ['http://127.0.0.1:9001/secret-path', 'https://relay.example/x', 'ftp://nope.example/'];
    const key = 'A'.repeat(43) + '=';
    const app = await appWith(
      { 'index.html': '<!doctype html><head><title>Courier</title></head><body></body>' },
      { keys: [key], urls: () => urls },
    );
    const index = await app.inject({ url: '/', headers: { host: 'chat.example' } });
    expect(index.body).toContain(`<meta name="courier-endpoint-keys" content="${key}"></head>`);
    const csp = String(index.headers['content-security-policy']);
    expect(csp).toContain(
      "connect-src 'self' ws://chat.example wss://chat.example ws://127.0.0.1:9001 http://127.0.0.1:9001 wss://relay.example https://relay.example;",
    );
    expect(csp).not.toContain('nope.example');
    // The list is read again for each page: a new list's endpoints are reachable at the next load.
    urls = ['ws://10.0.0.7:443'];
    expect(String((await app.inject({ url: '/' })).headers['content-security-policy'])).toContain(
      ' ws://10.0.0.7:443 http://10.0.0.7:443;',
    );
    // An unreadable bundle: the app still loads, reaching this origin only.
    urls = [];
    const broken = await appWith(
      { 'index.html': '<!doctype html><head></head>' },
      {
        keys: [key],
        urls: () => {
          throw new Error('no bundle');
        },
      },
    );
    const page = await broken.inject({ url: '/', headers: { host: 'chat.example' } });
    expect(page.statusCode).toBe(200);
    expect(String(page.headers['content-security-policy'])).toContain(
      "connect-src 'self' ws://chat.example wss://chat.example;",
    );
    await app.close();
    await broken.close();
  });

  it('puts only well-formed origins of endpoint URLs in the policy, whatever the list holds', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string(),
            fc.webUrl(),
            fc.webUrl().map((u) => u.replace('http', 'ws')),
          ),
        ),
        (urls) => {
          for (const origin of endpointOrigins(urls)) {
            expect(origin).toMatch(/^(ws|wss|http|https):\/\/[A-Za-z0-9.:[\]-]+$/);
            // One source expression: nothing that ends it or starts another directive.
            expect(origin).not.toMatch(/[\s;,'"]/);
          }
        },
      ),
    );
  });
});
