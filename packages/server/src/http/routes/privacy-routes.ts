import { readFile } from 'node:fs/promises';
import { CourierError, type DeleteAccountBody, type PrivacySettingsView } from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import type { HttpServices } from '../services.ts';

const audience = { type: 'string', enum: ['everybody', 'contacts', 'nobody'] } as const;

/** Authenticated routes of the data-protection rights: settings, policy, export jobs, erasure. */
export async function privacyRoutes(app: FastifyInstance, services: HttpServices): Promise<void> {
  app.get('/v1/me/privacy', async (request) => services.privacy.settings(request.principal));

  app.put<{ Body: Partial<PrivacySettingsView> }>(
    '/v1/me/privacy',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            phoneVisibility: audience,
            phoneDiscovery: audience,
            lastSeenVisibility: audience,
            selfDestructMonths: { type: 'integer', enum: [1, 3, 6, 12] },
            groupAdd: audience,
          },
        },
      },
    },
    async (request) => services.privacy.updateSettings(request.principal, request.body),
  );

  app.post<{ Body: { version: string } }>(
    '/v1/me/privacy-policy/accept',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['version'],
          properties: { version: { type: 'string', maxLength: 64 } },
        },
      },
    },
    async (request, reply) => {
      await services.privacy.acceptPolicy(request.principal, request.body.version);
      return reply.status(204).send();
    },
  );

  // Data export as a job: start (or get the one under way), poll, download while it is kept.
  app.post('/v1/me/exports', async (request, reply) =>
    reply.status(202).send(await services.exports.start(request.principal)),
  );

  app.get('/v1/me/exports', async (request) => services.exports.list(request.principal));

  app.get<{ Params: { jobId: string } }>('/v1/me/exports/:jobId', async (request) =>
    services.exports.status(request.principal, request.params.jobId),
  );

  app.get<{ Params: { jobId: string } }>('/v1/me/exports/:jobId/archive', async (request, reply) => {
    const { path } = await services.exports.archive(request.principal, request.params.jobId);
    let archive: Buffer;
    try {
      // Read whole: an archive holds one account's server-side records (kilobytes to a few megabytes).
      archive = await readFile(path);
    } catch {
      // Deleted by the retention job between the check and the read.
      throw new CourierError('EXPORT_EXPIRED');
    }
    return reply
      .type('application/zip')
      .header('content-disposition', 'attachment; filename="courier-export.zip"')
      .header('cache-control', 'no-store')
      .send(archive);
  });

  app.delete<{ Body: DeleteAccountBody }>(
    '/v1/me',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['confirmPhone'],
          properties: { confirmPhone: { type: 'string', maxLength: 40 } },
        },
      },
    },
    async (request) => services.privacy.deleteAccount(request.principal, request.body.confirmPhone),
  );
}
