import { MEDIA_BLOB_PATH, MEDIA_UPLOAD_PATH } from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import type { MediaService } from '../../media/media-service.ts';

/**
 * Media (issue 14), registered inside the authenticated scope: tus uploads under
 * MEDIA_UPLOAD_PATH (the body stream goes to tus untouched), ranged blob downloads under
 * MEDIA_BLOB_PATH.
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
  scope.get<{ Params: { blobId: string } }>(`${MEDIA_BLOB_PATH}/:blobId`, async (request, reply) => {
    const blob = await media.download(request.principal, request.params.blobId, request.headers.range);
    return reply.status(blob.status).headers(blob.headers).send(blob.body);
  });
}
