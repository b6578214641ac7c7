import type { RequestCodeBody, VerifyCodeBody } from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import type { HttpServices } from '../services.ts';

const intent = { type: 'string', enum: ['register', 'login'] } as const;

/** Public routes: phone verification (`intent` is accepted from older clients and ignored). */
export async function authRoutes(app: FastifyInstance, services: HttpServices): Promise<void> {
  app.post<{ Body: RequestCodeBody }>(
    '/v1/auth/code',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['phone'],
          properties: { phone: { type: 'string', maxLength: 40 }, intent },
        },
      },
    },
    async (request) => services.auth.requestCode(request.body.phone, services.clientSource(request.raw)),
  );

  app.post<{ Body: VerifyCodeBody }>(
    '/v1/auth/verify',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['phone', 'verificationId', 'code', 'deviceName'],
          properties: {
            phone: { type: 'string', maxLength: 40 },
            verificationId: { type: 'string', minLength: 1, maxLength: 64 },
            code: { type: 'string', pattern: '^[0-9]{4,10}$' },
            intent,
            deviceName: { type: 'string', minLength: 1, maxLength: 64 },
            acceptPolicyVersion: { type: 'string', maxLength: 64 },
          },
        },
      },
    },
    async (request) => {
      const { phone, verificationId, code, deviceName, acceptPolicyVersion } = request.body;
      return services.auth.verify(
        phone,
        verificationId,
        code,
        deviceName,
        services.clientSource(request.raw),
        acceptPolicyVersion,
      );
    },
  );
}
