import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** Serves the end-user web app (packages/web) at /: plain files, no build step, read once. */
export async function webAppRoutes(app: FastifyInstance): Promise<void> {
  const dir = join(dirname(createRequire(import.meta.url).resolve('@courier/web/package.json')), 'public');
  const files = new Map(
    Object.entries(FILES).map(([name, type]) => [name, { type, body: readFileSync(join(dir, name)) }]),
  );
  const send = (name: string) => async (_request: unknown, reply: FastifyReply) => {
    const file = files.get(name)!;
    return reply
      .type(file.type)
      .header('cache-control', 'no-cache')
      .header('content-security-policy', "default-src 'self'; frame-ancestors 'none'")
      .header('referrer-policy', 'no-referrer')
      .send(file.body);
  };
  app.get('/', send('index.html'));
  app.get('/app.js', send('app.js'));
  app.get('/app.css', send('app.css'));
}
