import { CourierError, REPORT_LIMITS, REPORT_REASONS } from '@courier/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '../mls/mls-store.ts';
import { draftReport } from './report-draft.ts';

const message: fc.Arbitrary<StoredMessage> = fc.record({
  groupId: fc.constantFrom('g_chat', 'g_other'),
  seq: fc.nat(),
  clientMsgId: fc.uuid(),
  senderAccountId: fc.constantFrom('u_me', 'u_them', 'u_third'),
  senderDeviceId: fc.constant('d_x'),
  sentAtMs: fc.nat(),
  text: fc.string({ maxLength: 30 }),
  outgoing: fc.boolean(),
});
const withRoster = fc
  .tuple(message, fc.boolean())
  .map(
    ([m, roster]): StoredMessage =>
      roster ? { ...m, text: '', roster: { type: 'left', accountId: m.senderAccountId } as never } : m,
  );

describe('a report draft (property)', () => {
  it('forwards only readable messages of the chat, the last N in order, each reduced to sender, time and text', () => {
    fc.assert(
      fc.property(
        fc.array(withRoster, { maxLength: 80 }),
        fc.integer({ min: 0, max: REPORT_LIMITS.maxMessages }),
        fc.constantFrom(...REPORT_REASONS),
        (held, last, reason) => {
          const { body } = draftReport('g_chat', held, { reason, last });
          const readable = held.filter((m) => m.groupId === 'g_chat' && !m.roster && m.text.length > 0);
          const expected = last === 0 ? [] : readable.slice(-last);
          expect(body.messages).toEqual(
            expected.map((m) => ({ senderAccountId: m.senderAccountId, sentAtMs: m.sentAtMs, text: m.text })),
          );
          for (const m of body.messages)
            expect(Object.keys(m).sort()).toEqual(['senderAccountId', 'sentAtMs', 'text']);
          expect(Object.keys(body).sort()).toEqual(['chatId', 'messages', 'reason']);
        },
      ),
    );
  });

  it('forwards exactly the chosen messages, or refuses when one is not held', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 40 }), fc.nat(), (held, pick) => {
        const readable = held.filter((m) => m.groupId === 'g_chat' && m.text.length > 0);
        const chosen = readable.filter((_, i) => (pick >> i) % 2 === 1);
        const { body } = draftReport('g_chat', held, {
          reason: 'spam',
          clientMsgIds: chosen.map((m) => m.clientMsgId),
        });
        expect(body.messages.map((m) => m.text)).toEqual(chosen.map((m) => m.text));
        expect(() => draftReport('g_chat', held, { reason: 'spam', clientMsgIds: ['not-held'] })).toThrow(
          CourierError,
        );
      }),
    );
  });

  it('refuses an unknown reason, a negative count and an over-long comment with REPORT_INVALID', () => {
    const code = (run: () => unknown) => {
      try {
        run();
        return 'ok';
      } catch (error) {
        return (error as CourierError).code;
      }
    };
    expect(code(() => draftReport('g', [], { reason: 'rude' as never }))).toBe('REPORT_INVALID');
    expect(code(() => draftReport('g', [], { reason: 'spam', last: -1 }))).toBe('REPORT_INVALID');
    expect(code(() => draftReport('g', [], { reason: 'spam', comment: 'x'.repeat(1001) }))).toBe(
      'REPORT_INVALID',
    );
    expect(code(() => draftReport('g', [], { reason: 'spam', last: 51 }))).toBe('ok');
  });
});
