import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '../mls/mls-store.ts';
import { applyAction, inLogOrder, type MessageAction } from './message-action.ts';

const ACCOUNTS = ['alice', 'bob', 'carol'];
const EMOJI = ['👍', '❤️', '😂', '🇫🇷'];

/** A chat's log: messages by random senders, then actions (any sender, any message, some unknown). */
const logArb = fc
  .record({
    senders: fc.array(fc.constantFrom(...ACCOUNTS), { minLength: 1, maxLength: 6 }),
    files: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
    actions: fc.array(
      fc.record({
        target: fc.nat({ max: 7 }), // 6 and 7 name messages that never arrive
        by: fc.constantFrom(...ACCOUNTS),
        kind: fc.constantFrom('edit', 'delete', 'reaction', 'reaction', 'reaction'),
        text: fc.string({ minLength: 1, maxLength: 8 }),
        emoji: fc.constantFrom(...EMOJI),
        on: fc.boolean(),
      }),
      { maxLength: 40 },
    ),
  })
  .map(({ senders, files, actions }) => {
    const messages: StoredMessage[] = senders.map((sender, i) => ({
      groupId: 'g',
      seq: i + 1,
      clientMsgId: `m${i}`,
      senderAccountId: sender,
      senderDeviceId: `${sender}-phone`,
      sentAtMs: 1000 + i,
      text: files[i] ? '' : `text ${i}`,
      outgoing: false,
      ...(files[i] ? { file: { name: 'a.jpg' } as NonNullable<StoredMessage['file']> } : {}),
    }));
    const log: MessageAction[] = actions.map((a, i) => {
      const target = messages[a.target];
      const base = {
        groupId: 'g',
        seq: senders.length + i + 1,
        senderAccountId: a.by,
        // Another device of the same account may act too.
        senderDeviceId: `${a.by}-${i % 2 ? 'phone' : 'laptop'}`,
        clientMsgId: `a${i}`,
        sentAtMs: 5000 + i,
        target: {
          senderAccountId: target?.senderAccountId ?? 'nobody',
          senderDeviceId: target?.senderDeviceId ?? 'nobody-phone',
          clientMsgId: target?.clientMsgId ?? `missing${a.target}`,
        },
      };
      if (a.kind === 'edit') return { ...base, kind: 'edit', text: a.text };
      if (a.kind === 'delete') return { ...base, kind: 'delete' };
      return { ...base, kind: 'reaction', emoji: a.emoji, on: a.on };
    });
    return { messages, log };
  });

/** Applies each action to the message it names as it comes (what a device that has them all does). */
function inOrder(messages: StoredMessage[], log: MessageAction[]): StoredMessage[] {
  return messages.map((m) => log.reduce(applyAction, m));
}

/**
 * What a device does when messages arrive late: actions for an unknown message are kept aside and
 * applied in log order when it comes.
 */
function withLateMessages(
  messages: StoredMessage[],
  log: MessageAction[],
  late: Set<number>,
): StoredMessage[] {
  const kept = new Map<string, StoredMessage>();
  let waiting: MessageAction[] = [];
  const arrive = (m: StoredMessage) => {
    const mine = waiting.filter((a) => a.target.clientMsgId === m.clientMsgId);
    waiting = waiting.filter((a) => !mine.includes(a));
    kept.set(m.clientMsgId, inLogOrder(mine).reduce(applyAction, m));
  };
  messages.forEach((m, i) => {
    if (!late.has(i)) arrive(m);
  });
  // The actions arrive shuffled only in that the late messages are missing meanwhile.
  for (const action of log) {
    const target = kept.get(action.target.clientMsgId);
    if (target) kept.set(target.clientMsgId, applyAction(target, action));
    else waiting.push(action);
  }
  messages.forEach((m, i) => {
    if (late.has(i)) arrive(m);
  });
  return messages.map((m) => kept.get(m.clientMsgId)!);
}

describe('applying message actions to a chat history', () => {
  it('ends the same whether a message arrives before or after the actions naming it', () => {
    fc.assert(
      fc.property(logArb, fc.array(fc.nat({ max: 5 })), ({ messages, log }, late) => {
        expect(withLateMessages(messages, log, new Set(late))).toEqual(inOrder(messages, log));
      }),
    );
  });

  it('lets only the sender edit or delete, keeps edit history, and counts each account once per emoji', () => {
    fc.assert(
      fc.property(logArb, ({ messages, log }) => {
        const result = inOrder(messages, log);
        result.forEach((m, i) => {
          const original = messages[i]!;
          const mine = log.filter((a) => a.target.clientMsgId === original.clientMsgId);
          const deleteAt = mine.findIndex(
            (a) => a.kind === 'delete' && a.senderAccountId === original.senderAccountId,
          );
          const live = deleteAt < 0 ? mine : mine.slice(0, deleteAt);
          if (deleteAt >= 0) {
            // Deleted: nothing of its content is left, and nothing after the deletion applies.
            expect(m.deleted).toEqual({ atMs: mine[deleteAt]!.sentAtMs });
            expect(m.text).toBe('');
            expect(m.file ?? m.edited ?? m.reactions).toBeUndefined();
            return;
          }
          expect(m.deleted).toBeUndefined();
          const edits = live.filter(
            (a): a is Extract<MessageAction, { kind: 'edit' }> =>
              a.kind === 'edit' && a.senderAccountId === original.senderAccountId && !original.file,
          );
          // Another person's edit never changes the text; the sender's last one wins.
          const texts = [original.text, ...edits.map((e) => e.text)].filter(
            (t, j, all) => j === 0 || t !== all[j - 1],
          );
          expect(m.text).toBe(texts.at(-1));
          expect(m.edited?.earlier.map((e) => e.text) ?? []).toEqual(texts.slice(0, -1));
          // Each emoji lists exactly the accounts whose last reaction with it was "on".
          for (const emoji of EMOJI) {
            const last = new Map<string, boolean>();
            for (const a of live)
              if (a.kind === 'reaction' && a.emoji === emoji) last.set(a.senderAccountId, a.on);
            const by = [...last].filter(([, on]) => on).map(([who]) => who);
            const found = m.reactions?.find((r) => r.emoji === emoji);
            expect([...(found?.by ?? [])].sort()).toEqual(by.sort());
            if (found) expect(found.by.length).toBeGreaterThan(0);
          }
        });
      }),
    );
  });

  it('never applies an action to another message, and ignores every action on a roster change', () => {
    fc.assert(
      fc.property(logArb, ({ messages, log }) => {
        const roster = {
          ...messages[0]!,
          roster: { action: 'added' } as unknown as NonNullable<StoredMessage['roster']>,
        };
        expect(log.reduce(applyAction, roster)).toEqual(roster);
        const other = { ...messages[0]!, clientMsgId: 'not-named' };
        expect(log.reduce(applyAction, other)).toEqual(other);
      }),
    );
  });
});
