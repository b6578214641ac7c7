import type { FastifyInstance } from 'fastify';
import type { HttpServices } from '../services.ts';

const groupParams = {
  type: 'object',
  required: ['groupId'],
  properties: { groupId: { type: 'string', maxLength: 64 } },
} as const;
const accountParams = {
  type: 'object',
  required: ['accountId'],
  properties: { accountId: { type: 'string', maxLength: 64 } },
} as const;

/** Authenticated routes of consent before contact: message requests, invitations, blocks. */
export async function consentRoutes(app: FastifyInstance, services: HttpServices): Promise<void> {
  app.get('/v1/requests', async (request) => ({
    requests: await services.groups.requests(request.principal),
  }));

  app.post<{ Params: { groupId: string } }>(
    '/v1/requests/:groupId/accept',
    { schema: { params: groupParams } },
    async (request) => services.groups.accept(request.principal, request.params.groupId),
  );

  app.post<{ Params: { groupId: string } }>(
    '/v1/requests/:groupId/decline',
    { schema: { params: groupParams } },
    async (request, reply) => {
      await services.groups.decline(request.principal, request.params.groupId);
      return reply.status(204).send();
    },
  );

  app.get('/v1/blocks', async (request) => ({ blocks: await services.consent.blocks(request.principal) }));

  app.put<{ Params: { accountId: string } }>(
    '/v1/blocks/:accountId',
    { schema: { params: accountParams } },
    async (request, reply) => {
      await services.consent.block(request.principal, request.params.accountId);
      return reply.status(204).send();
    },
  );

  app.delete<{ Params: { accountId: string } }>(
    '/v1/blocks/:accountId',
    { schema: { params: accountParams } },
    async (request, reply) => {
      await services.consent.unblock(request.principal, request.params.accountId);
      return reply.status(204).send();
    },
  );
}
