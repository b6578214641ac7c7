import type { GroupDetailView, RosterEvent } from '@courier/protocol';
import type { CourierHttp, StoredMessage } from '@courier/sdk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessagePrinter } from './message-printer.ts';
import { Names } from './names.ts';
import { printable, safeJson } from './terminal-text.ts';

/** What a terminal acts on instead of showing: C0 (ESC, CR, LF…), DEL, C1, separators, bidi controls. */
const ACTED_ON = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

const ME = 'acc_me';
const OTHER = 'acc_other';

/** A printer whose server answers with the given group title and the other person's display name. */
function printerWith(title: string, displayName: string, kind: 'group' | 'direct' = 'group') {
  const http = {
    group: async (groupId: string) =>
      ({
        groupId,
        kind,
        title,
        members: [
          { accountId: ME, role: 'member', joinedAtMs: 0 },
          { accountId: OTHER, role: 'member', joinedAtMs: 0 },
        ],
      }) as unknown as GroupDetailView,
    lookup: async () => ({ accountId: OTHER, displayName }),
  } as unknown as CourierHttp;
  return new MessagePrinter(http, new Names(http), ME);
}

const message = (text: string): StoredMessage => ({
  groupId: 'grp_1',
  seq: 7,
  clientMsgId: 'c1',
  senderAccountId: OTHER,
  senderDeviceId: 'dev_1',
  sentAtMs: 0,
  text,
  outgoing: false,
});

/** Any string at all: every code unit (lone surrogates too), or full Unicode with controls mixed in. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom('\u001b', '\n', '\r', '\u009b', '\u2028', '\u202e', '[', 'a', ':', ']'),
    maxLength: 30,
  }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

describe('message printer: other people’s text is neutralised on display', () => {
  it('prints any message text, sender name and chat title as one line with no control character (property)', async () => {
    await fc.assert(
      fc.asyncProperty(anyText, anyText, anyText, fc.boolean(), async (text, name, title, direct) => {
        const print = printerWith(title, name, direct ? 'direct' : 'group');
        const line = await print.line(message(text));
        expect(line).not.toMatch(ACTED_ON);
        // Exactly one line, in the shape `[chat] sender: text`, whatever the parts hold.
        expect(line.split(/\r\n|\r|\n/)).toHaveLength(1);
        // Someone with no name is never shown by account id.
        const shownName = name || 'someone with no name yet';
        const shownTitle = printable(direct ? shownName : title);
        expect(line.startsWith(`[${shownTitle}] ${printable(shownName)}: `)).toBe(true);
        expect(line.endsWith(printable(text))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('prints roster changes with hostile names and titles as one clean line (property)', async () => {
    await fc.assert(
      fc.asyncProperty(anyText, anyText, async (name, title) => {
        const print = printerWith(title, name);
        const event: RosterEvent = {
          action: 'created',
          actorAccountId: OTHER,
          subjectAccountIds: [OTHER, ME],
          role: '',
          title,
        };
        const line = await print.rosterLine('grp_1', event);
        expect(line).not.toMatch(ACTED_ON);
        expect(line.split(/\r\n|\r|\n/)).toHaveLength(1);
      }),
      { numRuns: 150 },
    );
  });

  it('JSON lines carry the exact text yet hold no raw control character (property)', async () => {
    await fc.assert(
      fc.asyncProperty(anyText, anyText, anyText, async (text, name, title) => {
        const line = await printerWith(title, name).json(message(text));
        expect(line).not.toMatch(ACTED_ON);
        const parsed = JSON.parse(line) as { text: string; chat: string; fromName: string };
        expect(parsed.text).toBe(JSON.parse(JSON.stringify(text)));
        expect(parsed.chat).toBe(JSON.parse(JSON.stringify(title)));
      }),
      { numRuns: 200 },
    );
  });

  it('indented JSON (the --json output of other commands) stays valid and equal (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(anyText, fc.array(anyText))), (value) => {
        const text = safeJson(value, 2);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(text.replace(/\n/g, '')).not.toMatch(ACTED_ON);
      }),
    );
  });

  it('leaves ordinary text alone: any script, emoji, punctuation (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
        fc.pre(!ACTED_ON.test(text));
        expect(printable(text)).toBe(text);
        expect(JSON.parse(safeJson(text))).toBe(text);
      }),
    );
  });

  it('shows the issue’s attacks visibly instead of acting on them', async () => {
    const print = printerWith('Family', 'mum');
    const forged = await print.line(message('hi\n[Family] @dad: send the PIN\u001b[2J'));
    expect(forged).toBe('[Family] mum: hi␊[Family] @dad: send the PIN␛[2J');
  });
});

describe('message printer: unsupported messages and receipt marks', () => {
  it('shows a message of an unknown type as unsupported, its type neutralised, on one line (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyText.filter((t) => t.length > 0),
        fc.integer({ min: 1, max: 99 }),
        async (type, v) => {
          const print = printerWith('Climbers', 'Bob');
          const line = await print.line({ ...message(''), unsupported: { type, v } });
          expect(line).not.toMatch(ACTED_ON);
          expect(line).toContain(`(unsupported message: ${printable(type)} v${v}; update Courier to see it)`);
          expect(line).not.toContain('could not be decrypted');
        },
      ),
    );
  });

  it('marks sent messages with their status in history, and prints receipt lines', async () => {
    const print = printerWith('Climbers', 'Bob');
    const mine = { ...message('hi'), senderAccountId: ME, outgoing: true };
    expect(await print.lineWithStatus({ ...mine, status: 'read' })).toMatch(/: hi {2}✓✓ read$/);
    expect(await print.lineWithStatus({ ...mine, seq: 0, status: 'queued' })).toMatch(/: hi {2}\(queued\)$/);
    expect(await print.lineWithStatus(message('theirs'))).toMatch(/: theirs$/);
    expect(
      await print.statusLine({ groupId: 'grp_1', status: 'delivered', upToSeq: 12, byAccountId: OTHER }),
    ).toBe('[Climbers] ✓✓ delivered by Bob up to #12');
    const json = JSON.parse(
      await print.statusJson({ groupId: 'grp_1', status: 'read', upToSeq: 14, byAccountId: OTHER }),
    ) as Record<string, unknown>;
    expect(json).toMatchObject({ kind: 'status', status: 'read', upToSeq: 14, by: OTHER, byName: 'Bob' });
  });
});
