import fc from 'fast-check';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { installErrorHandling } from './error-handler.ts';
import { type SchemaFailure, validationMessage } from './validation-message.ts';

const KEYWORDS = [
  'required',
  'additionalProperties',
  'maxLength',
  'minLength',
  'maxItems',
  'minItems',
  'minProperties',
  'maximum',
  'minimum',
  'enum',
  'const',
  'type',
  'pattern',
  'format',
  'dependentRequired',
];

describe('schema failures said in words', () => {
  it('names the field and what it must be, never the validator’s wording, through the error envelope', async () => {
    const app = Fastify();
    installErrorHandling(app);
    app.post(
      '/v1/thing',
      {
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['code'],
            properties: {
              code: { type: 'string', pattern: '^[0-9]{6}$' },
              displayName: { type: 'string', maxLength: 256 },
              audience: { enum: ['everybody', 'contacts', 'nobody'] },
            },
          },
        },
      },
      async () => ({ ok: true }),
    );
    const post = async (payload: unknown) => {
      const reply = await app.inject({ method: 'POST', url: '/v1/thing', payload: payload as object });
      expect(reply.statusCode).toBe(400);
      return reply.json().error as { code: string; message: string };
    };
    expect(await post({ code: '12x' })).toEqual({
      code: 'REQ_INVALID',
      message: 'The request is not valid: code is not in the expected form.',
    });
    expect((await post({ code: '123456', displayName: 'x'.repeat(300) })).message).toBe(
      'The request is not valid: displayName is too long (at most 256 characters).',
    );
    expect((await post({ code: '123456', audience: 'sometimes' })).message).toBe(
      'The request is not valid: audience is one of: "everybody", "contacts", "nobody".',
    );
    expect((await post({})).message).toBe('The request is not valid: code is missing.');
    await app.close();
  });

  it('never shows a schema path, a pattern or Ajv’s phrasing for any failure', () => {
    const failure = fc.record({
      keyword: fc.oneof(fc.constantFrom(...KEYWORDS), fc.string()),
      instancePath: fc.array(fc.oneof(fc.stringMatching(/^[a-zA-Z]{1,12}$/), fc.nat(9).map(String)), {
        maxLength: 3,
      }),
      params: fc.record({
        limit: fc.nat(1000),
        missingProperty: fc.stringMatching(/^[a-zA-Z]{1,12}$/),
        additionalProperty: fc.stringMatching(/^[a-zA-Z]{1,12}$/),
        allowedValues: fc.array(fc.string({ maxLength: 8 }), { maxLength: 15 }),
        type: fc.constantFrom('string', 'integer', 'object', 'array', 'string,null'),
        pattern: fc.constant('^[0-9]+$'),
      }),
    });
    fc.assert(
      fc.property(
        fc.array(failure, { maxLength: 5 }),
        fc.constantFrom('body', 'querystring', 'params', undefined),
        (failures, context) => {
          const said = validationMessage(
            failures.map((f) => ({
              ...f,
              instancePath: f.instancePath.map((p) => `/${p}`).join(''),
            })) as SchemaFailure[],
            context,
          );
          expect(said).toMatch(/^The (request|query|path) is not valid: .+\.$/);
          expect(said).not.toMatch(/must (match|be equal|NOT|have)|\^\[0-9\]|body\/|querystring\/|#\//);
        },
      ),
    );
  });
});
