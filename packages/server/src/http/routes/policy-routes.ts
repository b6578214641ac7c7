import type { PrivacyPolicyView } from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import { marked } from 'marked';
import type { HttpServices } from '../services.ts';

/** Public routes: the privacy policy in force, as data and as a page, and every earlier version. */
export async function policyRoutes(app: FastifyInstance, services: HttpServices): Promise<void> {
  const pages = new Map(
    services.policies.all.map((v) => [
      v.version,
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Courier privacy policy ${v.version}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.6 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#222}</style></head>
<body>${marked.parse(v.markdown, { async: false })}
<p><small>SHA-256 of this text: <code>${v.sha256}</code>. Versions: ${services.policies.all.map((x) => `<a href="/privacy/${x.version}">${x.version}</a>`).join(', ')}.</small></p>
</body></html>`,
    ]),
  );

  app.get('/v1/privacy-policy', async (): Promise<PrivacyPolicyView> => {
    const p = services.policies.current();
    return { version: p.version, effectiveFromMs: p.effectiveFrom, sha256: p.sha256, markdown: p.markdown };
  });

  app.get('/privacy', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(pages.get(services.policies.current().version)),
  );

  app.get<{ Params: { version: string } }>('/privacy/:version', async (request, reply) => {
    const page = pages.get(request.params.version);
    if (!page)
      return reply.status(404).send({ error: { code: 'REQ_NOT_FOUND', message: 'No such policy version.' } });
    return reply.type('text/html; charset=utf-8').send(page);
  });
}
