import { type GroupStateParts, groupStateChange } from '@courier/mls';
import { CourierError } from '@courier/protocol';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageAction } from '../actions/message-action.ts';
import type { MlsStore, StoredMessage } from '../mls/mls-store.ts';

/** A fresh, empty store and how to close (and remove) it. */
export interface OpenedStore {
  store: MlsStore;
  close(): Promise<void> | void;
}

const message = (groupId: string, n: number, extra: Partial<StoredMessage> = {}): StoredMessage => ({
  groupId,
  seq: n,
  clientMsgId: `m-${n}`,
  senderAccountId: 'acc-b',
  senderDeviceId: 'dev-b',
  sentAtMs: 1_700_000_000_000 + n,
  text: `message ${n}`,
  outgoing: false,
  ...extra,
});

/** A group state of a secret part and these pages, saved whole (every page given). */
const whole = (secrets: Uint8Array = Uint8Array.of(1), pages: Uint8Array[] = []) =>
  groupStateChange(undefined, { secrets, pages });

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
/** A state as comparable text: the secret part and each page. */
const shown = (state: GroupStateParts | undefined) =>
  state && { secrets: hex(state.secrets), pages: state.pages.map(hex) };
const page = (tag: string, size = 40) => new TextEncoder().encode(tag.padEnd(size, '.'));
const isInvalid = (e: unknown) => e instanceof CourierError && e.code === 'REQ_INVALID';

/** Every page of a chat, newest first, as one list (and the page sizes). */
async function readAll(store: MlsStore, groupId: string, limit: number): Promise<StoredMessage[]> {
  const all: StoredMessage[] = [];
  let before: number | undefined;
  for (let pages = 0; ; pages++) {
    const page = await store.history(groupId, before === undefined ? { limit } : { before, limit });
    expect(page.messages.length).toBeLessThanOrEqual(limit);
    all.push(...page.messages);
    if (page.before === undefined) return all;
    expect(page.messages.length).toBe(limit);
    before = page.before;
    if (pages > 100_000) throw new Error('paging does not end');
  }
}

/**
 * The device-store contract every MlsStore adapter passes (memory, IndexedDB, the CLI's SQLite):
 * paged history, receipt positions, unread counts, unsupported messages, and sent messages taking
 * their log position. Run it from each adapter's own test file.
 */
export function describeMlsStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`MlsStore contract: ${name}`, () => {
    const opened: OpenedStore[] = [];
    const fresh = async () => {
      const o = await open();
      opened.push(o);
      return o.store;
    };
    afterEach(async () => {
      for (const o of opened.splice(0)) await o.close();
    });

    it('pages a chat newest first, in the order stored, and ends at its first message', async () => {
      const store = await fresh();
      await store.saveGroup('g1', { state: whole(), seq: 0 }, undefined, {
        messages: [message('g1', 1), message('g1', 2)],
      });
      await store.addMessages([message('g2', 1), message('g1', 3), message('g1', 4, { text: '' })]);
      await store.addMessages([message('g1', 3)]); // kept already: not doubled
      const first = await store.history('g1', { limit: 3 });
      expect(first.messages.map((m) => m.seq)).toEqual([4, 3, 2]);
      expect(first.before).toBeDefined();
      const second = await store.history('g1', { before: first.before!, limit: 3 });
      expect(second.messages.map((m) => m.seq)).toEqual([1]);
      expect(second.before).toBeUndefined();
      expect((await store.history('g2', { limit: 10 })).messages).toEqual([message('g2', 1)]);
      expect(await store.history('none', { limit: 10 })).toEqual({ messages: [] });
      // A page exactly as long as what is left says there is nothing older.
      const exact = await store.history('g1', { limit: 4 });
      expect(exact.messages).toHaveLength(4);
      expect(exact.before).toBeUndefined();
    });

    it('refuses page sizes out of range with REQ_INVALID', async () => {
      const store = await fresh();
      for (const limit of [0, -1, 1.5, 501])
        await expect(store.history('g', { limit })).rejects.toSatisfy(
          (e) => e instanceof CourierError && e.code === 'REQ_INVALID',
        );
      await expect(store.history('g', { before: -3, limit: 10 })).rejects.toBeInstanceOf(CourierError);
    });

    it('keeps an unsupported message as such, with its type', async () => {
      const store = await fresh();
      const unsupported = message('g', 7, { text: '', unsupported: { type: 'reaction', v: 1 } });
      await store.addMessages([unsupported]);
      expect((await store.history('g', { limit: 5 })).messages).toEqual([unsupported]);
      expect(await store.messages('g')).toMatchObject([unsupported]);
    });

    it('gives a sent message its log position once it comes back', async () => {
      const store = await fresh();
      const sent = message('g', 0, { clientMsgId: 'mine', senderDeviceId: 'dev-a', outgoing: true });
      await store.saveGroup('g', { state: whole(), seq: 0 }, undefined, { messages: [sent] });
      expect((await store.history('g', { limit: 5 })).messages[0]?.seq).toBe(0);
      await store.acceptSent('g', { senderDeviceId: 'dev-a', clientMsgId: 'mine', seq: 9 });
      await store.acceptSent('g', { senderDeviceId: 'dev-a', clientMsgId: 'not-kept', seq: 10 });
      expect((await store.history('g', { limit: 5 })).messages).toEqual([{ ...sent, seq: 9 }]);
    });

    it('saves the known keys of many accounts at once, each read back as saved', async () => {
      const store = await fresh();
      expect(await store.knownKeys('acc-1')).toEqual({});
      const many = new Map(
        Array.from({ length: 300 }, (_, i) => [`acc-${i}`, { [`dev-${i}`]: `key-${i}`, extra: `x-${i}` }]),
      );
      await store.setKnownKeys(many);
      await store.setKnownKeys(new Map());
      for (const [accountId, keys] of many) expect(await store.knownKeys(accountId)).toEqual(keys);
      // A later save replaces an account's keys and leaves the others as they were.
      await store.setKnownKeys(new Map([['acc-7', { 'dev-7': 'key-7b' }]]));
      expect(await store.knownKeys('acc-7')).toEqual({ 'dev-7': 'key-7b' });
      expect(await store.knownKeys('acc-8')).toEqual(many.get('acc-8'));
    });

    it('moves receipt positions only forward, per chat', async () => {
      const patch = fc.record(
        {
          deliveredUpTo: fc.nat({ max: 1000 }),
          readUpTo: fc.nat({ max: 1000 }),
          myReadUpTo: fc.nat({ max: 1000 }),
        },
        { requiredKeys: [] },
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.constantFrom('a', 'b'), patch), { maxLength: 12 }),
          async (steps) => {
            const store = await fresh();
            const expected = new Map<
              string,
              { deliveredUpTo: number; readUpTo: number; myReadUpTo: number }
            >();
            for (const [groupId, p] of steps) {
              const was = expected.get(groupId) ?? { deliveredUpTo: 0, readUpTo: 0, myReadUpTo: 0 };
              const next = {
                // Read implies delivered.
                deliveredUpTo: Math.max(was.deliveredUpTo, p.deliveredUpTo ?? 0, p.readUpTo ?? 0),
                readUpTo: Math.max(was.readUpTo, p.readUpTo ?? 0),
                myReadUpTo: Math.max(was.myReadUpTo, p.myReadUpTo ?? 0),
              };
              expected.set(groupId, next);
              expect(await store.advanceChatState(groupId, p)).toEqual(next);
            }
            for (const groupId of ['a', 'b'])
              expect(await store.chatState(groupId)).toEqual(
                expected.get(groupId) ?? { deliveredUpTo: 0, readUpTo: 0, myReadUpTo: 0 },
              );
          },
        ),
        { numRuns: 20 },
      );
    });

    it('counts received messages after the read position as unread, not sent ones or roster changes', async () => {
      const store = await fresh();
      await store.addMessages([
        message('g', 1),
        message('g', 2, { outgoing: true, senderDeviceId: 'dev-a' }),
        message('g', 3, {
          text: '',
          roster: {
            action: 'added',
            actorAccountId: 'acc-b',
            subjectAccountIds: ['acc-c'],
            role: '',
            title: '',
          },
        }),
        message('g', 4, { text: '', unsupported: { type: 'poll', v: 1 } }),
        message('g', 5),
        message('other', 6),
      ]);
      expect(await store.unreadCount('g')).toBe(3);
      await store.advanceChatState('g', { myReadUpTo: 4 });
      expect(await store.unreadCount('g')).toBe(1);
      await store.advanceChatState('g', { myReadUpTo: 5 });
      expect(await store.unreadCount('g')).toBe(0);
      expect(await store.unreadCount('other')).toBe(1);
    });

    it('pages any mix of chats back to exactly what was stored', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom('x', 'y', 'z'), { maxLength: 60 }),
          fc.integer({ min: 1, max: 9 }),
          async (chats, limit) => {
            const store = await fresh();
            const stored = chats.map((groupId, i) => message(groupId, i + 1));
            for (let i = 0; i < stored.length; i += 7) await store.addMessages(stored.slice(i, i + 7));
            for (const groupId of ['x', 'y', 'z'])
              expect(await readAll(store, groupId, limit)).toEqual(
                stored.filter((m) => m.groupId === groupId).reverse(),
              );
          },
        ),
        { numRuns: 15 },
      );
    });

    it('pages a chat of 10,000 messages correctly', async () => {
      const store = await fresh();
      const stored = Array.from({ length: 10_000 }, (_, i) => message('big', i + 1));
      for (let i = 0; i < stored.length; i += 2_500) await store.addMessages(stored.slice(i, i + 2_500));
      await store.addMessages([message('small', 1)]);
      const newest = await store.history('big', { limit: 50 });
      expect(newest.messages.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 10_000 - i));
      const all = await readAll(store, 'big', 500);
      expect(all).toHaveLength(10_000);
      expect(all.map((m) => m.seq)).toEqual(Array.from({ length: 10_000 }, (_, i) => 10_000 - i));
      expect(await store.unreadCount('big')).toBe(10_000);
      await store.advanceChatState('big', { myReadUpTo: 9_990 });
      expect(await store.unreadCount('big')).toBe(10);
    }, 60_000);

    it('applies edits, deletions and reactions in the same save, and keeps those for unknown messages until they arrive', async () => {
      const store = await fresh();
      const act = (n: number, target: StoredMessage, extra: Partial<MessageAction>): MessageAction =>
        ({
          groupId: 'g',
          seq: n,
          senderAccountId: 'acc-b',
          senderDeviceId: 'dev-b',
          clientMsgId: `a-${n}`,
          sentAtMs: 1_700_000_000_000 + n,
          target: {
            senderAccountId: target.senderAccountId,
            senderDeviceId: target.senderDeviceId,
            clientMsgId: target.clientMsgId,
          },
          ...extra,
        }) as MessageAction;
      const reply = message('g', 1, {
        replyTo: { senderAccountId: 'acc-a', senderDeviceId: 'dev-a', clientMsgId: 'x', quote: 'hi' },
        forwarded: { accountId: 'acc-c', sentAtMs: 5 },
      });
      await store.saveGroup('g', { state: whole(), seq: 1 }, undefined, { messages: [reply] });
      expect(await store.message('g', reply)).toEqual(reply);
      const late = message('g', 2);
      await store.saveGroup('g', { state: whole(), seq: 5 }, 1, {
        actions: [
          act(3, reply, { kind: 'edit', text: 'edited once' }),
          act(4, reply, { kind: 'reaction', emoji: '👍', on: true }),
          act(5, reply, {
            kind: 'reaction',
            emoji: '👍',
            on: true,
            senderAccountId: 'acc-c',
            senderDeviceId: 'dev-c',
          }),
          // An edit by someone else than the sender is ignored.
          act(6, reply, { kind: 'edit', text: 'forged', senderAccountId: 'acc-c', senderDeviceId: 'dev-c' }),
          // Actions for a message this store does not hold yet wait for it, and apply in log order.
          act(8, late, { kind: 'delete' }),
          act(7, late, { kind: 'reaction', emoji: '🎉', on: true }),
        ],
      });
      const edited = await store.message('g', reply);
      expect(edited).toMatchObject({
        text: 'edited once',
        edited: { atMs: 1_700_000_000_003, earlier: [{ text: 'message 1', atMs: reply.sentAtMs }] },
        reactions: [{ emoji: '👍', by: ['acc-b', 'acc-c'] }],
        replyTo: reply.replyTo,
        forwarded: reply.forwarded,
      });
      expect(await store.message('g', late)).toBeUndefined();
      await store.saveGroup('g', { state: whole(), seq: 9 }, 2, { messages: [late] });
      const deleted = await store.message('g', late);
      expect(deleted).toEqual({ ...late, text: '', deleted: { atMs: 1_700_000_000_008 } });
      // History pages show messages as the actions left them, in their place.
      expect((await store.history('g', { limit: 10 })).messages).toEqual([deleted, edited]);
      // An action that arrives again (same sender and id) changes nothing more.
      await store.saveGroup('g', { state: whole(), seq: 9 }, 3, {
        actions: [act(4, reply, { kind: 'reaction', emoji: '👍', on: true })],
      });
      expect(await store.message('g', reply)).toEqual(edited);
    });

    it('keeps a group state in parts: a save writes the secret part and the changed pages, a read assembles them', async () => {
      const store = await fresh();
      const first: GroupStateParts = {
        secrets: page('secrets 1', 8),
        pages: [page('p0'), page('p1'), page('p2'), page('p3'), page('p4')],
      };
      expect(
        await store.saveGroup('g', { state: groupStateChange(undefined, first), seq: 1 }, undefined),
      ).toBe(true);
      expect(shown((await store.group('g'))?.state)).toEqual(shown(first));
      // A commit: the secret part and two pages change; the others are not given and stay.
      const second: GroupStateParts = {
        secrets: page('secrets 2', 8),
        pages: [
          first.pages[0]!,
          page('p1 after'),
          first.pages[2]!.slice(),
          page('p3 after'),
          first.pages[4]!,
        ],
      };
      const change = groupStateChange(first, second);
      expect([...change.pages.keys()]).toEqual([1, 3]);
      expect(await store.saveGroup('g', { state: change, seq: 2 }, 1)).toBe(true);
      const read = (await store.group('g'))!;
      expect(shown(read.state)).toEqual(shown(second));
      expect(read).toMatchObject({ seq: 2, version: 2 });
      // A save without a state moves the position and the pending commit only.
      const pending = { clientMsgId: 'c1', state: page('pending whole state') };
      expect(await store.saveGroup('g', { seq: 3, pending }, 2)).toBe(true);
      const withPending = (await store.group('g'))!;
      expect(shown(withPending.state)).toEqual(shown(second));
      expect(withPending).toMatchObject({ seq: 3, version: 3, pending });
      expect(await store.saveGroup('g', { seq: 4 }, 3)).toBe(true);
      expect((await store.group('g'))?.pending).toBeUndefined();
      // A save over an older version is refused and changes nothing.
      expect(await store.saveGroup('g', { state: whole(), seq: 9 }, 3)).toBe(false);
      expect(shown((await store.group('g'))?.state)).toEqual(shown(second));
      // Another group's pages are its own; deleting a group deletes its pages.
      await store.saveGroup('h', { state: whole(page('h'), [page('h0')]), seq: 1 }, undefined);
      await store.deleteGroup('g');
      expect(await store.group('g')).toBeUndefined();
      expect(
        await store.saveGroup('g', { state: whole(page('g again'), [page('n0')]), seq: 1 }, undefined),
      ).toBe(true);
      expect(shown((await store.group('g'))?.state)).toEqual(
        shown({ secrets: page('g again'), pages: [page('n0')] }),
      );
      expect(shown((await store.group('h'))?.state)).toEqual(
        shown({ secrets: page('h'), pages: [page('h0')] }),
      );
    });

    it('hands back a state the caller holds of the stored version instead of reading the pages again', async () => {
      const store = await fresh();
      const first = { secrets: page('s1', 4), pages: [page('a'), page('b')] };
      await store.saveGroup('g', { state: groupStateChange(undefined, first), seq: 1 }, undefined);
      const held = { secrets: page('s1', 4), pages: [page('a'), page('b')] };
      const read = (await store.group('g', { version: 1, state: held }))!;
      expect(read.state).toBe(held);
      expect(read).toMatchObject({ seq: 1, version: 1 });
      // Another version stored: the state is read from the store.
      const second = { secrets: page('s2', 4), pages: [page('a'), page('c')] };
      await store.saveGroup('g', { state: groupStateChange(first, second), seq: 2 }, 1);
      const again = (await store.group('g', { version: 1, state: held }))!;
      expect(again.state).not.toBe(held);
      expect(shown(again.state)).toEqual(shown(second));
      expect(await store.group('none', { version: 1, state: held })).toBeUndefined();
      // The same version of a group deleted and saved anew (another secret part): read from the store.
      await store.deleteGroup('g');
      const other = { secrets: page('other', 4), pages: [page('x')] };
      await store.saveGroup('g', { state: groupStateChange(undefined, other), seq: 1 }, undefined);
      const anew = (await store.group('g', { version: 1, state: held }))!;
      expect(anew.state).not.toBe(held);
      expect(shown(anew.state)).toEqual(shown(other));
    });

    it('names the chats with a pending commit until a save without it', async () => {
      const store = await fresh();
      const state = { secrets: page('s', 4), pages: [page('a')] };
      for (const groupId of ['g1', 'g2', 'g3'])
        await store.saveGroup(groupId, { state: groupStateChange(undefined, state), seq: 1 }, undefined);
      expect(await store.pendingGroupIds()).toEqual([]);
      const pending = { clientMsgId: 'c-1', state: page('pending') };
      await store.saveGroup('g2', { seq: 1, pending }, 1);
      await store.saveGroup('g3', { seq: 2, pending: { ...pending, clientMsgId: 'c-2' } }, 1);
      expect((await store.pendingGroupIds()).sort()).toEqual(['g2', 'g3']);
      expect((await store.group('g2'))?.pending?.clientMsgId).toBe('c-1');
      // Adopted (a new state) or forgotten (only the position): no longer pending.
      await store.saveGroup(
        'g2',
        { state: groupStateChange(state, { ...state, secrets: page('t', 4) }), seq: 1 },
        2,
      );
      await store.saveGroup('g3', { seq: 2 }, 2);
      expect(await store.pendingGroupIds()).toEqual([]);
    });

    it('drops the pages of a tree that shrank, and refuses a grown tree whose new pages are not given', async () => {
      const store = await fresh();
      const five = { secrets: page('s1', 4), pages: ['a', 'b', 'c', 'd', 'e'].map((t) => page(t)) };
      await store.saveGroup('g', { state: groupStateChange(undefined, five), seq: 1 }, undefined);
      const three = { secrets: page('s2', 4), pages: five.pages.slice(0, 3) };
      const shrink = groupStateChange(five, three);
      expect(shrink.pages.size).toBe(0);
      expect(await store.saveGroup('g', { state: shrink, seq: 2 }, 1)).toBe(true);
      expect(shown((await store.group('g'))?.state)).toEqual(shown(three));
      // Growing again: the pages beyond the old count must be given (the dropped ones are gone).
      const lying = { secrets: page('s3', 4), pageCount: 5, pages: new Map([[3, page('d2')]]) };
      await expect(store.saveGroup('g', { state: lying, seq: 3 }, 2)).rejects.toSatisfy(isInvalid);
      const four = { secrets: page('s3', 4), pages: [...three.pages, page('d2')] };
      expect(await store.saveGroup('g', { state: groupStateChange(three, four), seq: 3 }, 2)).toBe(true);
      expect(shown((await store.group('g'))?.state)).toEqual(shown(four));
      const empty = { secrets: page('s4', 4), pages: [] };
      expect(await store.saveGroup('g', { state: groupStateChange(four, empty), seq: 4 }, 3)).toBe(true);
      expect(shown((await store.group('g'))?.state)).toEqual(shown(empty));
    });

    it('a save that fails part way writes nothing: never one epoch’s secrets with another’s pages', async () => {
      const store = await fresh();
      const epoch1 = { secrets: page('epoch 1', 8), pages: ['a', 'b', 'c', 'd'].map((t) => page(`${t} 1`)) };
      await store.saveGroup('g', { state: groupStateChange(undefined, epoch1), seq: 1 }, undefined);
      const before = await store.group('g');
      // The new secret part and two new pages would be written before the missing pages are found.
      const broken = {
        secrets: page('epoch 2', 8),
        pageCount: 6,
        pages: new Map([
          [0, page('a 2')],
          [1, page('b 2')],
          [5, page('f 2')],
        ]),
      };
      await expect(
        store.saveGroup('g', { state: broken, seq: 2 }, 1, { messages: [message('g', 2)] }),
      ).rejects.toSatisfy(isInvalid);
      const after = await store.group('g');
      expect(shown(after?.state)).toEqual(shown(before?.state));
      expect(after).toMatchObject({ seq: 1, version: 1 });
      expect(await store.messages('g')).toEqual([]);
      // A page outside the tree, a first save without a state or with pages missing: refused, nothing kept.
      const outside = { secrets: page('x'), pageCount: 1, pages: new Map([[1, page('p')]]) };
      await expect(store.saveGroup('g', { state: outside, seq: 2 }, 1)).rejects.toSatisfy(isInvalid);
      await expect(store.saveGroup('new', { seq: 1 }, undefined)).rejects.toSatisfy(isInvalid);
      const holes = { secrets: page('x'), pageCount: 2, pages: new Map([[0, page('p')]]) };
      await expect(store.saveGroup('new', { state: holes, seq: 1 }, undefined)).rejects.toSatisfy(isInvalid);
      expect(await store.group('new')).toBeUndefined();
      expect(shown((await store.group('g'))?.state)).toEqual(shown(epoch1));
      // The store still saves normally afterwards.
      const epoch2 = { secrets: page('epoch 2', 8), pages: [page('a 2'), ...epoch1.pages.slice(1)] };
      expect(await store.saveGroup('g', { state: groupStateChange(epoch1, epoch2), seq: 2 }, 1)).toBe(true);
      expect(shown((await store.group('g'))?.state)).toEqual(shown(epoch2));
    });

    it('an entry’s position commits with its effect: a save, stash or roster message that is not written leaves the cursor', async () => {
      type Step =
        | { kind: 'save'; groupId: string; seq: number; stale: boolean; invalid: boolean }
        | { kind: 'stash'; groupId: string; seq: number }
        | { kind: 'roster'; groupId: string; seq: number };
      const groupId = fc.constantFrom('g', 'h');
      const seq = fc.integer({ min: 1, max: 40 });
      const step: fc.Arbitrary<Step> = fc.oneof(
        fc.record({ kind: fc.constant('save'), groupId, seq, stale: fc.boolean(), invalid: fc.boolean() }),
        fc.record({ kind: fc.constant('stash'), groupId, seq }),
        fc.record({ kind: fc.constant('roster'), groupId, seq }),
      ) as fc.Arbitrary<Step>;
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
          const store = await fresh();
          const cursors = new Map<string, number>();
          const versions = new Map<string, number>();
          const states = new Map<string, number>();
          const raise = (g: string, n: number) => cursors.set(g, Math.max(cursors.get(g) ?? 0, n));
          for (const s of steps) {
            if (s.kind === 'stash') {
              await store.stash(s.groupId, {
                seq: s.seq,
                kind: 'message',
                senderAccountId: 'acc-b',
                senderDeviceId: 'dev-b',
                clientMsgId: `s-${s.seq}`,
                payload: Uint8Array.of(s.seq),
                sentAtMs: 1,
              });
              raise(s.groupId, s.seq);
            } else if (s.kind === 'roster') {
              await store.addMessages([message(s.groupId, s.seq, { text: '', clientMsgId: `r-${s.seq}` })], {
                groupId: s.groupId,
                seq: s.seq,
              });
              raise(s.groupId, s.seq);
            } else {
              const version = versions.get(s.groupId);
              // A stale save names a version that is not the stored one; an invalid one leaves no whole state.
              const expected = s.stale ? (version ?? 0) + 7 : version;
              const state = s.invalid
                ? { secrets: Uint8Array.of(s.seq), pageCount: 2, pages: new Map([[0, page('only one')]]) }
                : whole(Uint8Array.of(s.seq), [page(`p${s.seq}`)]);
              const extras = {
                messages: [message(s.groupId, s.seq, { clientMsgId: `m-${s.seq}` })],
                cursor: s.seq,
              };
              let saved: boolean;
              try {
                saved = await store.saveGroup(s.groupId, { state, seq: s.seq }, expected, extras);
              } catch (error) {
                expect(isInvalid(error)).toBe(true);
                saved = false;
              }
              expect(saved).toBe(!s.stale && !s.invalid);
              if (saved) {
                versions.set(s.groupId, (version ?? 0) + 1);
                states.set(s.groupId, s.seq);
                raise(s.groupId, s.seq);
              }
            }
            for (const g of ['g', 'h']) {
              expect(store.lastSeq(g)).toBe(cursors.get(g) ?? 0);
              expect((await store.group(g))?.seq).toBe(states.get(g));
            }
          }
        }),
        { numRuns: 25 },
      );
    });

    it('an own message’s stored position and the cursor move with the save that records it', async () => {
      const store = await fresh();
      const sent = message('g', 0, { clientMsgId: 'mine', senderDeviceId: 'dev-a', outgoing: true });
      expect(await store.saveGroup('g', { state: whole(), seq: 0 }, undefined, { messages: [sent] })).toBe(
        true,
      );
      const accepted = { senderDeviceId: 'dev-a', clientMsgId: 'mine', seq: 4 };
      // Refused (another process saved first): neither moves.
      expect(await store.saveGroup('g', { seq: 4 }, 7, { accepted, cursor: 4 })).toBe(false);
      expect((await store.message('g', accepted))?.seq).toBe(0);
      expect(store.lastSeq('g')).toBe(0);
      expect(await store.saveGroup('g', { seq: 4 }, 1, { accepted, cursor: 4 })).toBe(true);
      expect((await store.message('g', accepted))?.seq).toBe(4);
      expect(store.lastSeq('g')).toBe(4);
      // A cursor never moves back.
      expect(await store.saveGroup('g', { seq: 4 }, 2, { cursor: 2 })).toBe(true);
      expect(store.lastSeq('g')).toBe(4);
    });

    it('a join’s save takes the used key package and the Welcome’s mailbox position with it, or neither', async () => {
      const store = await fresh();
      const kp = (n: number) => ({
        ref: Uint8Array.of(n, 1),
        keyPackage: Uint8Array.of(n, 2),
        privateKeyPackage: Uint8Array.of(n, 3),
        lastResort: false,
      });
      await store.addKeyPackages([kp(1), kp(2)]);
      const refs = async () => (await store.keyPackages()).map((k) => hex(k.ref)).sort();
      const joined = { usedKeyPackage: kp(1).ref, mailboxCursor: 6 };
      // Refused (another process joined first): the key package stays, the mailbox position too.
      expect(await store.saveGroup('g', { state: whole(), seq: 3 }, 4, joined)).toBe(false);
      expect(await refs()).toEqual([hex(kp(1).ref), hex(kp(2).ref)]);
      expect(store.lastMailboxSeq()).toBe(0);
      expect(await store.saveGroup('g', { state: whole(), seq: 3 }, undefined, joined)).toBe(true);
      expect(await refs()).toEqual([hex(kp(2).ref)]);
      expect(store.lastMailboxSeq()).toBe(6);
      // The mailbox position never moves back.
      expect(await store.saveGroup('g', { seq: 3 }, 1, { mailboxCursor: 2 })).toBe(true);
      expect(store.lastMailboxSeq()).toBe(6);
    });

    it('any sequence of saves with changed, kept, added and dropped pages reads back as the last whole state', async () => {
      // Each step: the next whole state (pages kept as the same array, kept as an equal copy, or new),
      // saved as its change; or a stale save (refused); or a change missing a page it needs (refused).
      const step = fc.record({
        secrets: fc.uint8Array({ minLength: 1, maxLength: 24 }),
        pageCount: fc.nat({ max: 9 }),
        pages: fc.array(
          fc.oneof(fc.constant('same'), fc.constant('copy'), fc.uint8Array({ maxLength: 48 })),
          {
            minLength: 9,
            maxLength: 9,
          },
        ),
        fault: fc.constantFrom('none', 'none', 'none', 'stale', 'missing'),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
          const store = await fresh();
          let last: GroupStateParts | undefined;
          let version: number | undefined;
          for (const [n, s] of steps.entries()) {
            const pages = Array.from({ length: s.pageCount }, (_, i) => {
              const choice = s.pages[i]!;
              const old = last?.pages[i];
              if (choice === 'same' && old) return old;
              if (choice === 'copy' && old) return old.slice();
              return choice instanceof Uint8Array ? choice : Uint8Array.of(n, i);
            });
            const next = { secrets: s.secrets, pages };
            const change = groupStateChange(last, next);
            if (s.fault === 'stale' && version !== undefined) {
              expect(await store.saveGroup('g', { state: change, seq: n + 1 }, version - 1)).toBe(false);
            } else if (s.fault === 'missing' && change.pages.size > 0) {
              // Leave out a changed page the store does not hold at all (beyond what it holds): refused.
              const missing = [...change.pages.keys()].find((i) => i >= (last?.pages.length ?? 0));
              if (missing === undefined) continue;
              const pagesLeft = new Map(change.pages);
              pagesLeft.delete(missing);
              await expect(
                store.saveGroup('g', { state: { ...change, pages: pagesLeft }, seq: n + 1 }, version),
              ).rejects.toSatisfy(isInvalid);
            } else {
              expect(await store.saveGroup('g', { state: change, seq: n + 1 }, version)).toBe(true);
              last = next;
              version = (version ?? 0) + 1;
            }
            const read = await store.group('g');
            expect(shown(read?.state)).toEqual(shown(last));
            expect(read?.version).toBe(version);
          }
        }),
        { numRuns: 30 },
      );
    });
  });
}
