import { CourierError, MerkleProofError } from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../deps.ts';
import {
  listPeriods,
  REPORT_TYPES,
  type ReportFormat,
  renderReport,
} from '../../transparency/report-render.ts';
import type { TransparencyLog } from '../../transparency/transparency-log.ts';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/**
 * Public: the log's checkpoint, key, leaves and proofs, and the reports computed from them. The page
 * people read (/transparency) is part of the web app's build, served by web-app-routes.ts.
 */
export async function transparencyRoutes(
  app: FastifyInstance,
  log: TransparencyLog,
  clock: Clock,
): Promise<void> {
  app.get('/v1/transparency/checkpoint', async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send(await log.latest()),
  );
  app.get('/v1/transparency/key', async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send(`${log.verifierKey}\n`),
  );
  app.get('/v1/transparency/origin', async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send(`${log.origin}\n`),
  );

  app.get<{ Querystring: { start?: string; end?: string } }>('/v1/transparency/leaves', async (request) => {
    const start = Math.max(0, Number(request.query.start ?? 0) || 0);
    const end = Math.min(start + 10_000, Number(request.query.end ?? start + 10_000) || start + 10_000);
    return { leaves: await log.leaves(start, end) };
  });

  // A bad index or size is MERKLE_BAD_SIZE, with its catalog status.
  const proofOrError = async (proof: () => Promise<Uint8Array[]>) => {
    try {
      return { proof: (await proof()).map(b64) };
    } catch (error) {
      if (!(error instanceof MerkleProofError)) throw error;
      throw new CourierError(error.code, { message: error.message, cause: error });
    }
  };
  app.get<{ Querystring: { from: string; to: string } }>(
    '/v1/transparency/proof/consistency',
    async (request) =>
      proofOrError(() => log.consistency(Number(request.query.from), Number(request.query.to))),
  );
  app.get<{ Querystring: { index: string; size: string } }>(
    '/v1/transparency/proof/inclusion',
    async (request) =>
      proofOrError(() => log.inclusion(Number(request.query.index), Number(request.query.size))),
  );

  app.get<{ Params: { period: string } }>('/v1/transparency/reports/:period', async (request, reply) => {
    const match = request.params.period.match(/^(\d{4}-(?:H[12]|Q[1-4]))(?:\.(json|csv|html))?$/);
    if (!match)
      return reply
        .status(404)
        .send({ error: { code: 'REQ_NOT_FOUND', message: 'Periods look like 2026-H2.' } });
    const format = (match[2] ?? 'json') as ReportFormat;
    return reply.type(REPORT_TYPES[format]).send(await renderReport(log, match[1]!, format));
  });

  // The periods the page lists (each with its totals for the charts), newest last; `current` by the server clock.
  app.get('/v1/transparency/periods', async () => listPeriods(log, clock.now()));
}
