import type { FastifyInstance } from 'fastify';

const page = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Courier</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:0 .25rem}</style>
</head>
<body>
<h1>Courier</h1>
<p>This is a Courier server. It speaks the HTTP API under <code>/v1</code> and the WebSocket gateway at
<code>/v1/ws</code> (see <code>docs/protocol.md</code>). Health: <a href="/healthz">/healthz</a>,
readiness: <a href="/readyz">/readyz</a>.</p>
<p>Use it with the command-line client: <code>npm run courier -- register +441234567890</code>.</p>
</body>
</html>
`;

/** The landing page of a bare server (the web app will take this place). */
export async function homeRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
}
