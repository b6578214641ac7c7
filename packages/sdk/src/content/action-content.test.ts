import { CourierError, encodeBase64 } from '@courier/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readContent, writeContent } from './content-registry.ts';
import { isEmoji } from './reaction-content.ts';

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const id = fc.string({ minLength: 1, maxLength: 128 });
const ref = fc.record({ senderAccountId: id, senderDeviceId: id, clientMsgId: id });
const time = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const text = fc.string({ minLength: 1, maxLength: 300 });
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(encodeBase64);
const file = fc.record(
  {
    blobId: fc.stringMatching(/^[a-f0-9]{32}$/),
    key: bytes32,
    digest: bytes32,
    size: fc.integer({ min: 0, max: 2 ** 40 }),
    mime: fc.constantFrom('image/jpeg', 'video/mp4', 'application/pdf'),
    name: fc.constantFrom('a.jpg', 'holiday video.mp4', 'résumé.pdf'),
    width: fc.integer({ min: 1, max: 20_000 }),
    preview: fc.record({
      mime: fc.constant('image/webp'),
      data: fc.uint8Array({ maxLength: 300 }).map(encodeBase64),
    }),
  },
  { requiredKeys: ['blobId', 'key', 'digest', 'size', 'mime', 'name'] },
);
const emoji = fc.constantFrom('👍', '❤️', '😂', '🎉', '🇫🇷', '👨‍👩‍👧', '1️⃣', '👍🏽');

/** One valid content of each action type. */
const actionContent = fc.oneof(
  fc.record({
    v: fc.constant(1 as const),
    type: fc.constant('reply' as const),
    text,
    sentAtMs: time,
    replyTo: fc.tuple(ref, fc.string({ maxLength: 200 })).map(([r, quote]) => ({ ...r, quote })),
  }),
  fc.record({
    v: fc.constant(1 as const),
    type: fc.constant('forward' as const),
    text,
    sentAtMs: time,
    from: fc.record({ accountId: id, sentAtMs: time }),
  }),
  fc.record({
    v: fc.constant(1 as const),
    type: fc.constant('forward' as const),
    text: fc.constant(''),
    file,
    sentAtMs: time,
    from: fc.record({ accountId: id, sentAtMs: time }),
  }),
  fc.record({
    v: fc.constant(1 as const),
    type: fc.constant('edit' as const),
    target: ref,
    text,
    sentAtMs: time,
  }),
  fc.record({
    v: fc.constant(1 as const),
    type: fc.constant('delete' as const),
    target: ref,
    sentAtMs: time,
  }),
  fc.record({
    v: fc.constant(1 as const),
    type: fc.constant('reaction' as const),
    target: ref,
    emoji,
    on: fc.boolean(),
    sentAtMs: time,
  }),
);

describe('message action content', () => {
  it('round-trips reply, forward, edit, delete and reaction; only reply and forward are shown', () => {
    fc.assert(
      fc.property(actionContent, (content) => {
        expect(readContent(writeContent(content))).toEqual({
          kind: 'known',
          content,
          shown: content.type === 'reply' || content.type === 'forward',
        });
      }),
    );
  });

  it('reads any damage to an action without throwing: known and well formed, or malformed', () => {
    fc.assert(
      fc.property(
        actionContent,
        fc.constantFrom(
          'text',
          'target',
          'replyTo',
          'from',
          'emoji',
          'on',
          'sentAtMs',
          'quote',
          'clientMsgId',
          'file',
        ),
        fc.anything(),
        (content, field, value) => {
          const damaged: Record<string, unknown> = JSON.parse(JSON.stringify(content));
          if (field === 'quote' || field === 'clientMsgId') {
            const inner = (damaged.replyTo ?? damaged.target) as Record<string, unknown> | undefined;
            if (inner) inner[field] = value;
          } else damaged[field] = value;
          const decoded = readContent(json(damaged));
          expect(['known', 'malformed']).toContain(decoded.kind);
          if (decoded.kind === 'known') expect(decoded.content.type).toBe(content.type);
        },
      ),
    );
  });

  it('calls a reference, an emoji or a text out of bounds malformed, and refuses to send it', () => {
    const goodFile = {
      blobId: 'ab'.repeat(16),
      key: encodeBase64(new Uint8Array(32)),
      digest: encodeBase64(new Uint8Array(32)),
      size: 10,
      mime: 'image/png',
      name: 'p.png',
    };
    const target = { senderAccountId: 'a', senderDeviceId: 'd', clientMsgId: 'm' };
    const bad = [
      { v: 1, type: 'edit', target: { ...target, clientMsgId: '' }, text: 'x', sentAtMs: 1 },
      { v: 1, type: 'edit', target, text: '', sentAtMs: 1 },
      { v: 1, type: 'delete', target: 'm', sentAtMs: 1 },
      { v: 1, type: 'reaction', target, emoji: 'ok', on: true, sentAtMs: 1 },
      { v: 1, type: 'reaction', target, emoji: '👍👍', on: true, sentAtMs: 1 },
      { v: 1, type: 'reaction', target, emoji: '👍', on: 'yes', sentAtMs: 1 },
      { v: 1, type: 'reply', text: 'x', sentAtMs: 1, replyTo: { ...target, quote: 'q'.repeat(201) } },
      { v: 1, type: 'forward', text: 'x', sentAtMs: 1, from: { accountId: '', sentAtMs: 1 } },
      // A forwarded file carries no text, and its descriptor is checked like a file message's.
      {
        v: 1,
        type: 'forward',
        text: 'x',
        file: goodFile,
        sentAtMs: 1,
        from: { accountId: 'a', sentAtMs: 1 },
      },
      {
        v: 1,
        type: 'forward',
        text: '',
        file: { ...goodFile, blobId: 'nope' },
        sentAtMs: 1,
        from: { accountId: 'a', sentAtMs: 1 },
      },
      { v: 1, type: 'forward', text: '', sentAtMs: 1, from: { accountId: 'a', sentAtMs: 1 } },
    ];
    for (const content of bad) {
      expect(readContent(json(content)).kind).toBe('malformed');
      expect(() => writeContent(content as never)).toThrow(CourierError);
    }
  });

  it('takes one emoji and nothing else as a reaction', () => {
    fc.assert(
      fc.property(emoji, (e) => {
        expect(isEmoji(e)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        // Plain text (letters, digits, punctuation) is never a reaction.
        if (/^[\x20-\x7e]*$/.test(s)) expect(isEmoji(s)).toBe(false);
      }),
    );
    expect(isEmoji('👍'.repeat(2))).toBe(false);
    expect(isEmoji('a👍')).toBe(false);
  });
});
