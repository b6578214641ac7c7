import {
  MEDIA_BLOB_PATH,
  MEDIA_UPLOAD_PATH,
  type MediaGrantBody,
  type MediaGrantReply,
} from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import type { MediaService } from '../../media/media-service.ts';

/**
 * Media (issue 14), registered inside the authenticated scope: tus uploads under
 * MEDIA_UPLOAD_PATH (the body stream goes to tus untouched), ranged blob downloads under
 * MEDIA_BLOB_PATH, and grants of a blob to a further chat (a forward) under `MEDIA_BLOB_PATH/:blobId/chats`.
 */
export async function mediaRoutes(scope: FastifyInstance, media: MediaService): Promise<void> {
  await scope.register(async (uploads) => {
    uploads.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) =>
      done(null, undefined),
    );
    for (const url of [MEDIA_UPLOAD_PATH, `${MEDIA_UPLOAD_PATH}/:uploadId`]) {
      uploads.route({
        method: ['POST', 'HEAD', 'PATCH', 'DELETE'],
        url,
        exposeHeadRoute: false,
        handler: async (request, reply) => {
          reply.hijack();
          await media.handleUpload(request.principal, request.raw, reply.raw);
        },
      });
    }
  });
  // Forward: a member of a chat the blob is bound to and of the target binds it to the target too.
  scope.post<{ Params: { blobId: string }; Body: MediaGrantBody }>(
    `${MEDIA_BLOB_PATH}/:blobId/chats`,
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['chatId'],
          properties: { chatId: { type: 'string', minLength: 1, maxLength: 64 } },
        },
      },
    },
    async (request): Promise<MediaGrantReply> => {
      const { granted } = await media.grant(request.principal, request.params.blobId, request.body.chatId);
      return { blobId: request.params.blobId, chatId: request.body.chatId, granted };
    },
  );
  scope.get<{ Params: { blobId: string } }>(`${MEDIA_BLOB_PATH}/:blobId`, async (request, reply) => {
    const blob = await media.download(request.principal, request.params.blobId, request.headers.range);
    return reply.status(blob.status).headers(blob.headers).send(blob.body);
  });
}
