import type { ChannelPostBody, CreateChannelBody, EditChannelBody } from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import type { ChannelService } from '../../channels/channel-service.ts';

const text = (maxLength: number) => ({ type: 'string', maxLength }) as const;
const seq = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

const postBody = {
  type: 'object',
  additionalProperties: false,
  required: ['postId', 'revision', 'deleted', 'body', 'signature'],
  properties: {
    postId: text(64),
    revision: { type: 'integer', minimum: 0, maximum: 0xffff_ffff },
    deleted: { type: 'boolean' },
    // Base64 of at most MAX_CHANNEL_POST_BYTES (the service checks the decoded size).
    body: text(64 * 1024),
    signature: text(128),
  },
} as const;

/** Broadcast channels (issue 16), inside the authenticated scope. */
export async function channelRoutes(app: FastifyInstance, channels: ChannelService): Promise<void> {
  app.get('/v1/channels', async (request) => ({
    channels: await channels.list(request.principal.accountId),
  }));

  app.post<{ Body: CreateChannelBody }>(
    '/v1/channels',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'title', 'visibility', 'publicKey'],
          properties: {
            name: text(64),
            title: text(512),
            description: text(2048),
            visibility: { type: 'string', enum: ['public', 'private'] },
            publicKey: text(64),
          },
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await channels.create(request.principal.accountId, request.body)),
  );

  app.post<{ Body: { name?: string; invite?: string } }>(
    '/v1/channels/subscriptions',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          maxProperties: 1,
          properties: { name: text(64), invite: text(128) },
        },
      },
    },
    async (request) => {
      const { name, invite } = request.body;
      return channels.subscribe(
        request.principal.accountId,
        invite !== undefined ? { invite } : { name: name ?? '' },
      );
    },
  );

  app.post<{ Body: { invite: string } }>(
    '/v1/channels/previews',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['invite'],
          properties: { invite: text(128) },
        },
      },
    },
    async (request) => channels.previewInvite(request.principal.accountId, request.body.invite),
  );

  app.get<{ Params: { channel: string } }>('/v1/channels/:channel', async (request) =>
    channels.show(request.principal.accountId, request.params.channel),
  );

  // The owner and admins edit the title and description (checked by the service as at creation).
  app.patch<{ Params: { channel: string }; Body: EditChannelBody }>(
    '/v1/channels/:channel',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { title: text(512), description: text(2048) },
        },
      },
    },
    async (request) => channels.edit(request.principal.accountId, request.params.channel, request.body),
  );

  app.delete<{ Params: { channel: string } }>('/v1/channels/:channel', async (request, reply) => {
    await channels.deleteChannel(request.principal.accountId, request.params.channel);
    return reply.status(204).send();
  });

  app.delete<{ Params: { channel: string } }>(
    '/v1/channels/:channel/subscription',
    async (request, reply) => {
      await channels.unsubscribe(request.principal.accountId, request.params.channel);
      return reply.status(204).send();
    },
  );

  app.get<{ Params: { channel: string }; Querystring: { after?: string; limit?: string } }>(
    '/v1/channels/:channel/posts',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: { type: 'string', pattern: '^[0-9]{1,15}$' },
            limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
          },
        },
      },
    },
    async (request) =>
      channels.posts(
        request.principal.accountId,
        request.params.channel,
        Number(request.query.after ?? 0),
        Number(request.query.limit ?? 100),
      ),
  );

  app.post<{ Params: { channel: string }; Body: ChannelPostBody }>(
    '/v1/channels/:channel/posts',
    { schema: { body: postBody } },
    async (request, reply) =>
      reply
        .status(201)
        .send(await channels.post(request.principal.accountId, request.params.channel, request.body)),
  );

  app.put<{ Params: { channel: string; postId: string }; Body: ChannelPostBody }>(
    '/v1/channels/:channel/posts/:postId',
    { schema: { body: postBody } },
    async (request) =>
      channels.revise(
        request.principal.accountId,
        request.params.channel,
        request.params.postId,
        request.body,
      ),
  );

  app.post<{ Params: { channel: string }; Body: { seq: number } }>(
    '/v1/channels/:channel/read',
    {
      schema: {
        body: { type: 'object', additionalProperties: false, required: ['seq'], properties: { seq } },
      },
    },
    async (request) =>
      channels.markRead(request.principal.accountId, request.params.channel, request.body.seq),
  );

  app.get<{ Params: { channel: string } }>('/v1/channels/:channel/invites', async (request) => ({
    invites: await channels.invites(request.principal.accountId, request.params.channel),
  }));

  app.post<{ Params: { channel: string } }>('/v1/channels/:channel/invites', async (request, reply) =>
    reply.status(201).send(await channels.createInvite(request.principal.accountId, request.params.channel)),
  );

  app.delete<{ Params: { channel: string; inviteId: string } }>(
    '/v1/channels/:channel/invites/:inviteId',
    async (request, reply) => {
      await channels.revokeInvite(
        request.principal.accountId,
        request.params.channel,
        request.params.inviteId,
      );
      return reply.status(204).send();
    },
  );

  app.get<{ Params: { channel: string } }>('/v1/channels/:channel/admins', async (request) => ({
    admins: await channels.admins(request.principal.accountId, request.params.channel),
  }));

  app.put<{ Params: { channel: string; accountId: string } }>(
    '/v1/channels/:channel/admins/:accountId',
    async (request, reply) => {
      await channels.setAdmin(
        request.principal.accountId,
        request.params.channel,
        request.params.accountId,
        true,
      );
      return reply.status(204).send();
    },
  );

  app.delete<{ Params: { channel: string; accountId: string } }>(
    '/v1/channels/:channel/admins/:accountId',
    async (request, reply) => {
      await channels.setAdmin(
        request.principal.accountId,
        request.params.channel,
        request.params.accountId,
        false,
      );
      return reply.status(204).send();
    },
  );
}
