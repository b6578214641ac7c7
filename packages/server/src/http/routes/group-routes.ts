import type { AddMembersBody, CreateGroupBody, OpenDirectBody, SetRoleBody } from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import { sourceKey } from '../client-ip.ts';
import type { HttpServices } from '../services.ts';

const accountIds = { type: 'array', maxItems: 5000, items: { type: 'string', maxLength: 64 } } as const;

/** Authenticated routes: chats and rosters. */
export async function groupRoutes(app: FastifyInstance, services: HttpServices): Promise<void> {
  app.get('/v1/groups', async (request) => ({ groups: await services.groups.list(request.principal) }));

  app.post<{ Body: CreateGroupBody }>(
    '/v1/groups',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['title', 'memberIds'],
          properties: { title: { type: 'string', maxLength: 512 }, memberIds: accountIds },
        },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await services.groups.create(
            request.principal,
            request.body.title,
            request.body.memberIds,
            sourceKey(services.clientSource(request.raw)),
          ),
        ),
  );

  app.post<{ Body: OpenDirectBody }>(
    '/v1/direct',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['accountId'],
          properties: { accountId: { type: 'string', maxLength: 64 } },
        },
      },
    },
    async (request) =>
      services.groups.openDirect(
        request.principal,
        request.body.accountId,
        sourceKey(services.clientSource(request.raw)),
      ),
  );

  app.get<{ Params: { groupId: string } }>('/v1/groups/:groupId', async (request) =>
    services.groups.detail(request.principal, request.params.groupId),
  );

  app.post<{ Params: { groupId: string }; Body: AddMembersBody }>(
    '/v1/groups/:groupId/members',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['accountIds'],
          properties: { accountIds: { ...accountIds, minItems: 1 } },
        },
      },
    },
    async (request) =>
      services.groups.addMembers(
        request.principal,
        request.params.groupId,
        request.body.accountIds,
        sourceKey(services.clientSource(request.raw)),
      ),
  );

  app.delete<{ Params: { groupId: string; accountId: string } }>(
    '/v1/groups/:groupId/members/:accountId',
    async (request, reply) => {
      await services.groups.removeMember(request.principal, request.params.groupId, request.params.accountId);
      return reply.status(204).send();
    },
  );

  app.post<{ Params: { groupId: string } }>('/v1/groups/:groupId/leave', async (request, reply) => {
    await services.groups.leave(request.principal, request.params.groupId);
    return reply.status(204).send();
  });

  app.put<{ Params: { groupId: string; accountId: string }; Body: SetRoleBody }>(
    '/v1/groups/:groupId/members/:accountId/role',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['role'],
          properties: { role: { type: 'string', enum: ['admin', 'member'] } },
        },
      },
    },
    async (request) =>
      services.groups.setRole(
        request.principal,
        request.params.groupId,
        request.params.accountId,
        request.body.role,
      ),
  );
}
