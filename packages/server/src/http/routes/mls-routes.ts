import type {
  ClaimKeyPackagesBody,
  RegisterCredentialBody,
  SubmitCommitBody,
  UploadKeyPackagesBody,
} from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import type { MlsService } from '../../services/mls-service.ts';

const base64 = { type: 'string', maxLength: 8 * 1024 * 1024 } as const;
const keyPackage = { type: 'string', maxLength: 16 * 1024 } as const;

/** Authenticated routes of the MLS delivery service (docs/protocol.md). */
export async function mlsRoutes(app: FastifyInstance, mls: MlsService): Promise<void> {
  app.get('/v1/mls/server-key', async () => mls.serverKey());

  app.put<{ Body: RegisterCredentialBody }>(
    '/v1/me/device/credential',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['signaturePublicKey'],
          properties: { signaturePublicKey: { type: 'string', maxLength: 128 } },
        },
      },
    },
    async (request) => mls.registerCredential(request.principal, request.body.signaturePublicKey),
  );

  app.post<{ Body: UploadKeyPackagesBody }>(
    '/v1/me/device/key-packages',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['keyPackages'],
          properties: {
            keyPackages: { type: 'array', maxItems: 200, items: keyPackage },
            lastResort: keyPackage,
          },
        },
      },
    },
    async (request) => mls.uploadKeyPackages(request.principal, request.body),
  );

  app.get('/v1/me/device/key-packages', async (request) => mls.stock(request.principal));

  app.post<{ Body: ClaimKeyPackagesBody }>(
    '/v1/mls/key-packages/claim',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['accountIds'],
          properties: {
            accountIds: {
              type: 'array',
              minItems: 1,
              maxItems: 500,
              items: { type: 'string', maxLength: 64 },
            },
            deviceIds: { type: 'array', maxItems: 5000, items: { type: 'string', maxLength: 64 } },
          },
        },
      },
    },
    async (request) => mls.claim(request.principal, request.body.accountIds, request.body.deviceIds),
  );

  app.get<{ Querystring: { accountIds?: string } }>('/v1/mls/devices', async (request) =>
    mls.certificates((request.query.accountIds ?? '').split(',').filter(Boolean).slice(0, 500)),
  );

  app.get<{ Params: { groupId: string } }>('/v1/groups/:groupId/mls', async (request) =>
    mls.groupView(request.principal, request.params.groupId),
  );

  app.get<{ Params: { groupId: string }; Querystring: { epoch?: string } }>(
    '/v1/groups/:groupId/mls/tree',
    async (request) =>
      mls.tree(
        request.principal,
        request.params.groupId,
        /^\d{1,15}$/.test(request.query.epoch ?? '') ? Number(request.query.epoch) : -1,
      ),
  );

  app.post<{ Params: { groupId: string }; Body: SubmitCommitBody }>(
    '/v1/groups/:groupId/mls/commits',
    {
      // A commit that adds to a 5,000-member group carries a ~1.1 MB tree (base64) and its Welcome.
      bodyLimit: 24 * 1024 * 1024,
      // Someone outside the chat is refused before the body is read and parsed.
      preParsing: async (request) => mls.assertMayCommit(request.principal, request.params.groupId),
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['clientMsgId', 'commit'],
          properties: {
            clientMsgId: { type: 'string', maxLength: 64 },
            commit: base64,
            welcome: base64,
            ratchetTree: base64,
          },
        },
      },
    },
    async (request) => mls.submitCommit(request.principal, request.params.groupId, request.body),
  );
}
