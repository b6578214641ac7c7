import { CourierError, REPORT_REASONS } from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import type { DeskService } from '../../legal/desk-service.ts';
import type { ModerationService } from '../../moderation/moderation-service.ts';
import type { DeskAccountRow } from '../../storage/ports.ts';

const accountParam = {
  type: 'object',
  required: ['accountId'],
  properties: { accountId: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/**
 * The moderation queue under /desk/v1/moderation: its own encapsulated plugin with the desk's
 * session check (desk sessions, never user tokens). It is registered beside the legal desk's
 * routes, not inside them: nothing of the legal desk loads it, and the disclosure port has no
 * path to reports (test/legal-isolation.test.ts). Only staff with the `moderator` role pass.
 */
export async function moderationRoutes(
  app: FastifyInstance,
  desk: Pick<DeskService, 'authenticate'>,
  moderation: ModerationService,
): Promise<void> {
  await app.register(
    async (scope) => {
      scope.decorateRequest('moderator', null);
      scope.addHook('onRequest', async (request) => {
        const header = request.headers.authorization;
        if (!header?.startsWith('Desk ')) throw new CourierError('DESK_SESSION_INVALID');
        request.moderator = await desk.authenticate(header.slice('Desk '.length));
      });
      const staff = (request: { moderator: DeskAccountRow | null }) => request.moderator!;

      scope.get<{ Querystring: { state?: 'open' | 'handled'; reason?: string; account?: string } }>(
        '/reports',
        {
          schema: {
            querystring: {
              type: 'object',
              additionalProperties: false,
              properties: {
                state: { type: 'string', enum: ['open', 'handled'] },
                reason: { type: 'string', enum: [...REPORT_REASONS] },
                account: { type: 'string', minLength: 1, maxLength: 64 },
              },
            },
          },
        },
        async (request) => {
          const { state, reason, account } = request.query;
          return {
            reports: await moderation.list(staff(request), {
              ...(state ? { state } : {}),
              ...(reason ? { reason } : {}),
              ...(account ? { reportedAccountId: account } : {}),
            }),
          };
        },
      );
      scope.get<{ Params: { reportId: string } }>('/reports/:reportId', async (request) =>
        moderation.read(staff(request), request.params.reportId),
      );
      scope.post<{ Params: { reportId: string } }>('/reports/:reportId/handled', async (request, reply) => {
        await moderation.markHandled(staff(request), request.params.reportId);
        return reply.status(204).send();
      });
      scope.get('/suspensions', async (request) => ({
        suspensions: await moderation.suspensions(staff(request)),
      }));
      scope.post<{ Params: { accountId: string }; Body: { reportId?: string } | undefined }>(
        '/suspensions/:accountId/propose',
        {
          schema: {
            params: accountParam,
            body: {
              type: ['object', 'null'],
              additionalProperties: false,
              properties: { reportId: { type: 'string', minLength: 1, maxLength: 64 } },
            },
          },
        },
        async (request) =>
          moderation.propose(staff(request), request.params.accountId, request.body?.reportId ?? null),
      );
      scope.post<{ Params: { accountId: string } }>(
        '/suspensions/:accountId/approve',
        { schema: { params: accountParam } },
        async (request) => moderation.approve(staff(request), request.params.accountId),
      );
      scope.post<{ Params: { accountId: string } }>(
        '/suspensions/:accountId/withdraw',
        { schema: { params: accountParam } },
        async (request) => moderation.withdraw(staff(request), request.params.accountId),
      );
      scope.post<{ Params: { accountId: string } }>(
        '/suspensions/:accountId/propose-lift',
        { schema: { params: accountParam } },
        async (request) => moderation.proposeLift(staff(request), request.params.accountId),
      );
    },
    { prefix: '/desk/v1/moderation' },
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    moderator: DeskAccountRow | null;
  }
}
