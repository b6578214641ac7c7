import type { SetProfileBody, SetUsernameBody } from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import type { HttpServices } from '../services.ts';

/** Authenticated routes about the caller's own account and other users. */
export async function accountRoutes(app: FastifyInstance, services: HttpServices): Promise<void> {
  app.get('/v1/me', async (request) => services.accounts.me(request.principal));

  app.put<{ Body: SetUsernameBody }>(
    '/v1/me/username',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['username'],
          properties: { username: { type: ['string', 'null'], maxLength: 64 } },
        },
      },
    },
    async (request) => services.accounts.setUsername(request.principal, request.body.username),
  );

  app.put<{ Body: SetProfileBody }>(
    '/v1/me/profile',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['displayName'],
          properties: { displayName: { type: 'string', maxLength: 256 } },
        },
      },
    },
    async (request) => services.accounts.setDisplayName(request.principal, request.body.displayName),
  );

  app.get<{ Querystring: { username?: string; phone?: string; accountId?: string } }>(
    '/v1/users/lookup',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            username: { type: 'string', maxLength: 64 },
            phone: { type: 'string', maxLength: 40 },
            accountId: { type: 'string', maxLength: 64 },
          },
        },
      },
    },
    async (request) => services.accounts.lookup(request.principal, request.query),
  );

  app.get('/v1/devices', async (request) => ({
    devices: await services.accounts.devices(request.principal),
  }));

  app.delete<{ Params: { deviceId: string } }>('/v1/devices/:deviceId', async (request, reply) => {
    await services.auth.revokeDevice(request.principal.accountId, request.params.deviceId);
    return reply.status(204).send();
  });

  app.post('/v1/auth/logout', async (request, reply) => {
    await services.auth.logout(request.principal);
    return reply.status(204).send();
  });
}
