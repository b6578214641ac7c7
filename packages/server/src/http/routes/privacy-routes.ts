import type { DeleteAccountBody, PrivacySettingsView } from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import type { HttpServices } from '../services.ts';

const audience = { type: 'string', enum: ['everybody', 'contacts', 'nobody'] } as const;

/** Authenticated routes of the data-protection rights: settings, policy, export, erasure. */
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

  app.get('/v1/me/export', async (request, reply) => {
    const archive = await services.privacy.export(request.principal);
    return reply
      .type('application/zip')
      .header('content-disposition', 'attachment; filename="courier-export.zip"')
      .header('cache-control', 'no-store')
      .send(Buffer.from(archive));
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
