import {
  CourierError,
  type CreateStickerPackBody,
  MAX_STICKER_PACK_TITLE_LENGTH,
  STICKER_IMAGES_PATH,
  STICKER_PACKS_PATH,
} from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import type { StickerService } from '../../stickers/sticker-service.ts';

/** Public: a pack by its short name, and an image by its content hash (strong cache headers). */
export async function publicStickerRoutes(scope: FastifyInstance, stickers: StickerService): Promise<void> {
  scope.get<{ Params: { shortName: string } }>(`${STICKER_PACKS_PATH}/:shortName`, async (request) =>
    stickers.pack(request.params.shortName),
  );
  scope.get<{ Params: { hash: string } }>(`${STICKER_IMAGES_PATH}/:hash`, async (request, reply) => {
    const image = await stickers.image(request.params.hash, request.headers['if-none-match']);
    if (image.status === 304) return reply.status(304).headers(image.headers).send();
    return reply.status(200).headers(image.headers).send(image.body);
  });
}

/**
 * Authenticated: create a pack, list mine, add a sticker (the body is the image itself, sent as
 * `image/png` or `image/webp`, the emoji in the query), delete a sticker or a pack.
 */
export async function stickerRoutes(
  scope: FastifyInstance,
  stickers: StickerService,
  maxBytes: number,
): Promise<void> {
  scope.post<{ Body: CreateStickerPackBody }>(
    STICKER_PACKS_PATH,
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['shortName', 'title'],
          properties: {
            shortName: { type: 'string', maxLength: 64 },
            title: { type: 'string', maxLength: MAX_STICKER_PACK_TITLE_LENGTH * 4 },
          },
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await stickers.createPack(request.principal, request.body)),
  );
  scope.get('/v1/me/sticker-packs', async (request) => stickers.packsOf(request.principal.accountId));
  scope.delete<{ Params: { shortName: string } }>(
    `${STICKER_PACKS_PATH}/:shortName`,
    async (request, reply) => {
      await stickers.deletePack(request.principal, request.params.shortName);
      return reply.status(204).send();
    },
  );
  scope.delete<{ Params: { shortName: string; index: string } }>(
    `${STICKER_PACKS_PATH}/:shortName/stickers/:index`,
    async (request, reply) => {
      const index = /^[1-9][0-9]{0,8}$/.test(request.params.index) ? Number(request.params.index) : 0;
      if (index === 0) throw new CourierError('STICKER_NOT_FOUND');
      await stickers.deleteSticker(request.principal, request.params.shortName, index);
      return reply.status(204).send();
    },
  );
  await scope.register(async (uploads) => {
    // The body is the image, whatever type it is sent as: the type is judged by content, and a body
    // over the limit is cut off with STICKER_TOO_LARGE (not a generic 413).
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', (_request, payload, done) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let finished = false;
      const finish = (error: Error | null, body?: Buffer) => {
        if (finished) return;
        finished = true;
        done(error, body);
      };
      payload.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          payload.removeAllListeners('data');
          payload.resume();
          finish(new CourierError('STICKER_TOO_LARGE', { details: { maxBytes } }));
          return;
        }
        chunks.push(chunk);
      });
      payload.once('end', () => finish(null, Buffer.concat(chunks)));
      payload.once('error', (error) => finish(error));
    });
    uploads.post<{ Params: { shortName: string }; Querystring: { emoji?: string } }>(
      `${STICKER_PACKS_PATH}/:shortName/stickers`,
      async (request, reply) => {
        const body = request.body;
        if (!(body instanceof Buffer) || body.length === 0) throw new CourierError('STICKER_NOT_IMAGE');
        const view = await stickers.addSticker(
          request.principal,
          request.params.shortName,
          request.query.emoji,
          request.headers['content-type'],
          body,
        );
        return reply.status(201).send(view);
      },
    );
  });
}
