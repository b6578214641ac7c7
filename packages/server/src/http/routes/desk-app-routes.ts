import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'desk.js': 'text/javascript; charset=utf-8',
  'desk.css': 'text/css; charset=utf-8',
};

/** Serves the desk app (packages/desk) at /desk: a separate page, never part of the public app. */
export async function deskAppRoutes(app: FastifyInstance): Promise<void> {
  const dir = join(dirname(createRequire(import.meta.url).resolve('@courier/desk/package.json')), 'public');
  const files = new Map(
    Object.entries(FILES).map(([name, type]) => [name, { type, body: readFileSync(join(dir, name)) }]),
  );
  const send = (name: string) => async (_request: unknown, reply: import('fastify').FastifyReply) => {
    const file = files.get(name)!;
    return reply
      .type(file.type)
      .header('cache-control', 'no-store')
      .header('content-security-policy', "default-src 'self'; frame-ancestors 'none'")
      .send(file.body);
  };
  app.get('/desk', send('index.html'));
  app.get('/desk/', send('index.html'));
  app.get('/desk/desk.js', send('desk.js'));
  app.get('/desk/desk.css', send('desk.css'));
}
