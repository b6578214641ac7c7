import type { GroupView } from '@courier/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer, type TestUser } from '../../../test/support/harness.ts';
import { parseChatRef, parseMemberRef, pickChat, resolveAccount, resolveChat } from './resolve.ts';

const ACCOUNT = 'u_AAAAAAAAAAAAAAAAAAAAAA';
const GROUP = 'g_BBBBBBBBBBBBBBBBBBBBBB';

const chat = (groupId: string, title: string, kind: GroupView['kind'] = 'group'): GroupView => ({
  groupId,
  kind,
  title,
  createdAtMs: 0,
  lastSeq: 0,
  memberCount: 2,
  myRole: 'member',
});

describe('reading chat and member arguments', () => {
  it('tells usernames, phone numbers and account ids apart', () => {
    expect(parseMemberRef('@alice_1')).toEqual({ kind: 'username', username: 'alice_1' });
    expect(parseMemberRef('alice_1')).toEqual({ kind: 'username', username: 'alice_1' });
    expect(parseMemberRef('+441234567890')).toEqual({ kind: 'phone', phone: '+441234567890' });
    expect(parseMemberRef(ACCOUNT)).toEqual({ kind: 'account', accountId: ACCOUNT });
    expect(() => parseMemberRef('@')).toThrow(/names nobody/);
  });

  it('reads a chat as an id, a person (their direct chat) or a group title', () => {
    expect(parseChatRef(GROUP)).toEqual({ kind: 'id', groupId: GROUP });
    expect(parseChatRef('@bob_22')).toEqual({
      kind: 'direct',
      with: { kind: 'username', username: 'bob_22' },
    });
    expect(parseChatRef('+12025550143')).toEqual({
      kind: 'direct',
      with: { kind: 'phone', phone: '+12025550143' },
    });
    expect(parseChatRef(ACCOUNT)).toEqual({ kind: 'direct', with: { kind: 'account', accountId: ACCOUNT } });
    expect(parseChatRef('Climbers of 2026')).toEqual({ kind: 'title', title: 'Climbers of 2026' });
  });

  it('never takes an argument starting with @ or + for a title, and never loses a title', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (text) => {
        const trimmed = text.trim();
        fc.pre(trimmed.length > 0 && !(trimmed === '@'));
        const ref = parseChatRef(text);
        if (trimmed.startsWith('@') || trimmed.startsWith('+')) expect(ref.kind).toBe('direct');
        else if (ref.kind === 'title') expect(ref.title).toBe(trimmed);
      }),
    );
  });

  it('picks a group by its title, exact case first, and refuses an ambiguous one', () => {
    const chats = [
      chat('g_1', 'Climbers'),
      chat('g_2', 'climbers'),
      chat('g_3', 'Book club'),
      chat('g_4', 'Book Club'),
      chat('g_5', 'Runners'),
      chat('g_6', 'Runners'),
      chat('g_7', '', 'direct'),
    ];
    expect(pickChat(chats, { kind: 'title', title: 'Climbers' }).groupId).toBe('g_1');
    expect(pickChat(chats, { kind: 'title', title: 'climbers' }).groupId).toBe('g_2');
    expect(() => pickChat(chats, { kind: 'title', title: 'CLIMBERS' })).toThrow(/g_1, g_2/);
    expect(() => pickChat(chats, { kind: 'title', title: 'Runners' })).toThrow(/Several.*g_5, g_6/);
    expect(() => pickChat(chats, { kind: 'title', title: 'Swimmers' })).toThrow(/no chat "Swimmers"/);
    expect(() => pickChat(chats, { kind: 'title', title: '' })).toThrow(/no chat/);
    expect(pickChat(chats, { kind: 'id', groupId: 'g_7' }).kind).toBe('direct');
    expect(() => pickChat(chats, { kind: 'id', groupId: 'g_8' })).toThrow(
      expect.objectContaining({ code: 'GROUP_NOT_FOUND' }),
    );
  });

  it('finds every group whose title is unique among my chats, whatever the titles', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 }),
        (titles) => {
          const chats = titles.map((t, i) => chat(`g_${i}`, t));
          titles.forEach((t, i) => {
            expect(pickChat(chats, { kind: 'title', title: t }).groupId).toBe(`g_${i}`);
          });
        },
      ),
    );
  });
});

describe('resolving arguments against a real server', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    server = await startTestServer();
    alice = await server.register(nextPhone());
    bob = await server.register(nextPhone());
    await bob.http.setUsername('bob_resolve');
  });
  afterAll(() => server?.close());

  it('finds people by @username (any case), +phone and account id, and says who is unknown', async () => {
    expect(await resolveAccount(alice.http, '@bob_resolve')).toBe(bob.accountId);
    expect(await resolveAccount(alice.http, '@Bob_Resolve')).toBe(bob.accountId);
    expect(await resolveAccount(alice.http, bob.phone)).toBe(bob.accountId);
    expect(await resolveAccount(alice.http, bob.accountId)).toBe(bob.accountId);
    await expect(resolveAccount(alice.http, '@nobody_here')).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_FOUND',
    });
  });

  it('opens the one direct chat with a person however they are named, and finds groups by title', async () => {
    const byName = await resolveChat(alice.http, '@bob_resolve', (id) => alice.http.openDirect(id));
    expect(byName.kind).toBe('direct');
    expect((await resolveChat(alice.http, bob.phone, (id) => alice.http.openDirect(id))).groupId).toBe(
      byName.groupId,
    );
    expect((await resolveChat(alice.http, bob.accountId, (id) => alice.http.openDirect(id))).groupId).toBe(
      byName.groupId,
    );
    expect((await resolveChat(bob.http, alice.phone, (id) => bob.http.openDirect(id))).groupId).toBe(
      byName.groupId,
    );
    expect((await resolveChat(bob.http, byName.groupId, (id) => bob.http.openDirect(id))).groupId).toBe(
      byName.groupId,
    );

    const group = await alice.http.createGroup('Climbers', [bob.accountId]);
    expect((await resolveChat(bob.http, 'climbers', (id) => bob.http.openDirect(id))).groupId).toBe(
      group.groupId,
    );
    await alice.http.createGroup('Climbers', []);
    await expect(resolveChat(alice.http, 'Climbers', (id) => alice.http.openDirect(id))).rejects.toThrow(
      /Several/,
    );
    // Bob is in one of them only, so for him the title is still unique.
    expect((await resolveChat(bob.http, 'Climbers', (id) => bob.http.openDirect(id))).groupId).toBe(
      group.groupId,
    );
    await bob.http.leave(group.groupId);
    await expect(resolveChat(bob.http, group.groupId, (id) => bob.http.openDirect(id))).rejects.toMatchObject(
      { code: 'GROUP_NOT_FOUND' },
    );
  });
});
