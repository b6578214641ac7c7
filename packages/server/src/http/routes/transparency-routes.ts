import {
  computeReport,
  parseLeaf,
  type PublicLeaf,
  periodOf,
  reportCsv,
  type TransparencyReport,
} from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import type { TransparencyLog } from '../../transparency/transparency-log.ts';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function reportHtml(report: TransparencyReport, verifierKey: string): string {
  const row = (name: string, r: TransparencyReport['totals']) =>
    `<tr><td>${esc(name)}</td><td>${r.received}</td><td>${r.notConsidered}</td><td>${r.rejected}</td><td>${esc(
      Object.entries(r.rejectedByReason)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', '),
    )}</td><td>${r.narrowed}</td><td>${r.declined}</td><td>${r.fulfilled}</td><td>${r.pending}</td><td>${r.accountsSpecified}</td><td>${r.accountsAffected}</td><td>${esc(
      Object.entries(r.categoriesDisclosed)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', '),
    )}</td></tr>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Courier transparency report ${esc(report.period)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}</style></head><body>
<h1>Transparency report ${esc(report.period)}</h1>
<p>Requests from authorities received in this period, by country, and what became of them. Generated from the public log
(${report.logSize} leaves); anyone can recompute it: <code>courier verify-report --period ${esc(report.period)}</code> with the key
<code>${esc(verifierKey)}</code>.</p>
<table><tr><th>country</th><th>received</th><th>not considered</th><th>rejected</th><th>rejected by reason</th><th>narrowed</th><th>declined</th><th>fulfilled</th><th>pending</th><th>accounts specified</th><th>accounts affected</th><th>categories disclosed</th></tr>
${report.countries.map((r) => row(r.country, r)).join('\n')}
${row('Total', report.totals)}</table></body></html>`;
}

/** Public: the log's checkpoint, key, leaves and proofs, and the reports computed from them. */
export async function transparencyRoutes(app: FastifyInstance, log: TransparencyLog): Promise<void> {
  const allLeaves = async (): Promise<PublicLeaf[]> =>
    (await log.leaves(0, Number.MAX_SAFE_INTEGER))
      .map((l) => parseLeaf(l.leaf))
      .filter((l): l is PublicLeaf => l !== undefined);

  app.get('/v1/transparency/checkpoint', async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send(await log.latest()),
  );
  app.get('/v1/transparency/key', async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send(`${log.verifierKey}\n`),
  );

  app.get<{ Querystring: { start?: string; end?: string } }>('/v1/transparency/leaves', async (request) => {
    const start = Math.max(0, Number(request.query.start ?? 0) || 0);
    const end = Math.min(start + 10_000, Number(request.query.end ?? start + 10_000) || start + 10_000);
    return { leaves: await log.leaves(start, end) };
  });

  app.get<{ Querystring: { from: string; to: string } }>(
    '/v1/transparency/proof/consistency',
    async (request, reply) => {
      try {
        return {
          proof: (await log.consistency(Number(request.query.from), Number(request.query.to))).map(b64),
        };
      } catch (error) {
        return reply.status(400).send({ error: { code: 'REQ_INVALID', message: (error as Error).message } });
      }
    },
  );

  app.get<{ Querystring: { index: string; size: string } }>(
    '/v1/transparency/proof/inclusion',
    async (request, reply) => {
      try {
        return {
          proof: (await log.inclusion(Number(request.query.index), Number(request.query.size))).map(b64),
        };
      } catch (error) {
        return reply.status(400).send({ error: { code: 'REQ_INVALID', message: (error as Error).message } });
      }
    },
  );

  app.get<{ Params: { period: string } }>('/v1/transparency/reports/:period', async (request, reply) => {
    const match = request.params.period.match(/^(\d{4}-(?:H[12]|Q[1-4]))(?:\.(json|csv|html))?$/);
    if (!match)
      return reply
        .status(404)
        .send({ error: { code: 'REQ_NOT_FOUND', message: 'Periods look like 2026-H2.' } });
    const report = computeReport(await allLeaves(), match[1]!);
    switch (match[2] ?? 'json') {
      case 'csv':
        return reply.type('text/csv; charset=utf-8').send(reportCsv(report));
      case 'html':
        return reply.type('text/html; charset=utf-8').send(reportHtml(report, log.verifierKey));
      default:
        return report;
    }
  });

  app.get('/transparency', async (_request, reply) =>
    reply.redirect(`/v1/transparency/reports/${periodOf(Date.now())}.html`),
  );
}
