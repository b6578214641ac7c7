import { CourierError } from '@courier/protocol';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { DeskService } from '../../legal/desk-service.ts';
import type { DeskAccountRow } from '../../storage/ports.ts';

declare module 'fastify' {
  interface FastifyRequest {
    deskAccount: DeskAccountRow;
  }
}

/**
 * The legal desk's API, an encapsulated plugin under /desk/v1 with its own authentication (desk
 * sessions, never user tokens): nothing of it is reachable from the public routes, and it reaches
 * user data only through the desk's disclosure port.
 */
export async function deskRoutes(
  app: FastifyInstance,
  desk: DeskService,
  /** The client's address, for login throttling and the audit log (proxies as configured). */
  clientIp: (request: IncomingMessage) => string = (request) => request.socket.remoteAddress ?? 'unknown',
): Promise<void> {
  await app.register(
    async (scope) => {
      scope.post<{ Body: { username: string; password: string; code: string } }>(
        '/login',
        {
          schema: {
            body: {
              type: 'object',
              additionalProperties: false,
              required: ['username', 'password', 'code'],
              properties: {
                username: { type: 'string', maxLength: 64 },
                password: { type: 'string', maxLength: 256 },
                code: { type: 'string', pattern: '^[0-9]{6}$' },
              },
            },
          },
        },
        async (request) =>
          desk.login(request.body.username, request.body.password, request.body.code, clientIp(request.raw)),
      );

      await scope.register(async (authed) => {
        authed.decorateRequest('deskAccount');
        authed.addHook('onRequest', async (request) => {
          const header = request.headers.authorization;
          if (!header?.startsWith('Desk ')) throw new CourierError('DESK_SESSION_INVALID');
          request.deskAccount = await desk.authenticate(header.slice('Desk '.length));
        });

        /** Ends this session on the server (ASVS 5.0 V7.4.1): its token opens nothing afterwards. */
        authed.post('/logout', async (request, reply) => {
          const header = request.headers.authorization ?? '';
          await desk.logout(request.deskAccount, header.slice('Desk '.length));
          return reply.status(204).send();
        });

        authed.get('/me', async (request) => desk.profile(request.deskAccount));

        const code = { type: 'string', pattern: '^[0-9]{6}$' } as const;
        const password = { type: 'string', maxLength: 256 } as const;
        /** A staff member's own TOTP change: password and current code → a new secret waiting for a code. */
        authed.post<{ Body: { password: string; code: string } }>(
          '/account/totp',
          {
            schema: {
              body: {
                type: 'object',
                additionalProperties: false,
                required: ['password', 'code'],
                properties: { password, code },
              },
            },
          },
          async (request) =>
            desk.beginTotpChange(
              request.deskAccount,
              request.body.password,
              request.body.code,
              clientIp(request.raw),
            ),
        );
        authed.delete('/account/totp', async (request, reply) => {
          await desk.cancelTotpChange(request.deskAccount, clientIp(request.raw));
          return reply.status(204).send();
        });
        authed.post<{ Body: { code: string } }>(
          '/account/totp/confirm',
          {
            schema: {
              body: { type: 'object', additionalProperties: false, required: ['code'], properties: { code } },
            },
          },
          async (request, reply) => {
            await desk.confirmTotpChange(request.deskAccount, request.body.code, clientIp(request.raw));
            return reply.status(204).send();
          },
        );
        authed.post<{ Body: { currentPassword: string; code: string; newPassword: string } }>(
          '/account/password',
          {
            schema: {
              body: {
                type: 'object',
                additionalProperties: false,
                required: ['currentPassword', 'code', 'newPassword'],
                properties: { currentPassword: password, code, newPassword: password },
              },
            },
          },
          async (request) => {
            const header = request.headers.authorization ?? '';
            return desk.changePassword(
              request.deskAccount,
              header.slice('Desk '.length),
              request.body,
              clientIp(request.raw),
            );
          },
        );

        authed.get('/requests', async (request) => ({ requests: await desk.list(request.deskAccount) }));

        authed.post<{ Body: { request: unknown; documentBase64: string } }>(
          '/requests',
          {
            bodyLimit: 12 * 1024 * 1024,
            schema: {
              body: {
                type: 'object',
                additionalProperties: false,
                required: ['request', 'documentBase64'],
                properties: {
                  request: { type: 'object' },
                  documentBase64: { type: 'string', maxLength: 11 * 1024 * 1024 },
                },
              },
            },
          },
          async (request, reply) => {
            const document = new Uint8Array(Buffer.from(request.body.documentBase64, 'base64'));
            return reply
              .status(201)
              .send(await desk.submit(request.deskAccount, request.body.request, document));
          },
        );

        authed.get<{ Params: { caseId: string } }>('/requests/:caseId', async (request) =>
          desk.detail(request.deskAccount, request.params.caseId),
        );
        authed.get<{ Params: { caseId: string } }>('/requests/:caseId/document', async (request, reply) =>
          reply
            .type('application/octet-stream')
            .header(
              'content-disposition',
              `attachment; filename="${request.params.caseId.replace(/[^\w-]/g, '_')}-document"`,
            )
            .header('x-content-type-options', 'nosniff')
            .send(Buffer.from(await desk.document(request.deskAccount, request.params.caseId))),
        );
        authed.post<{ Params: { caseId: string } }>('/requests/:caseId/approve', async (request) =>
          desk.approve(request.deskAccount, request.params.caseId),
        );
        authed.post<{ Params: { caseId: string }; Body: { reason: string } }>(
          '/requests/:caseId/decline',
          {
            schema: {
              body: {
                type: 'object',
                additionalProperties: false,
                required: ['reason'],
                properties: { reason: { type: 'string', minLength: 1, maxLength: 200 } },
              },
            },
          },
          async (request, reply) => {
            await desk.decline(request.deskAccount, request.params.caseId, request.body.reason);
            return reply.status(204).send();
          },
        );
        authed.post<{ Params: { caseId: string } }>('/requests/:caseId/produce', async (request) => {
          const { packageHash } = await desk.produce(request.deskAccount, request.params.caseId);
          return { packageHash };
        });
        authed.get<{ Params: { caseId: string } }>('/requests/:caseId/package', async (request, reply) =>
          reply.type('application/json').send(await desk.package(request.deskAccount, request.params.caseId)),
        );
        authed.get('/audit', async (request) => ({ entries: await desk.auditLog(request.deskAccount) }));
      });
    },
    { prefix: '/desk/v1' },
  );
}
