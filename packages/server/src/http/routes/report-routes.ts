import { type FileReportBody, REPORT_LIMITS, REPORT_REASONS } from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import type { ModerationService } from '../../moderation/moderation-service.ts';

/**
 * `POST /v1/reports` (authenticated): a report of a chat or a request with the messages the
 * reporter chose to forward. The schema admits exactly the documented fields, nothing more.
 */
export async function reportRoutes(app: FastifyInstance, moderation: ModerationService): Promise<void> {
  app.post<{ Body: FileReportBody }>(
    '/v1/reports',
    {
      // The largest report: 50 messages of 16,384 characters (up to 4 bytes each in UTF-8), escaped.
      bodyLimit: 8 * 1024 * 1024,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['chatId', 'reason', 'messages'],
          properties: {
            chatId: { type: 'string', minLength: 1, maxLength: 64 },
            reportedAccountId: { type: 'string', minLength: 1, maxLength: 64 },
            reason: { type: 'string', enum: [...REPORT_REASONS] },
            comment: { type: 'string', maxLength: REPORT_LIMITS.maxCommentLength },
            messages: {
              type: 'array',
              maxItems: REPORT_LIMITS.maxMessages,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['senderAccountId', 'sentAtMs', 'text'],
                properties: {
                  senderAccountId: { type: 'string', minLength: 1, maxLength: 64 },
                  sentAtMs: { type: 'integer', minimum: 0 },
                  text: { type: 'string', minLength: 1, maxLength: REPORT_LIMITS.maxTextLength },
                },
              },
            },
          },
        },
      },
    },
    async (request, reply) => reply.status(201).send(await moderation.file(request.principal, request.body)),
  );
}
