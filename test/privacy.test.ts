import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PolicyVersion, policyVersions } from '@courier/server';
import { CourierHttp } from '@courier/sdk';
import Database from 'better-sqlite3';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CapturingSms,
  connectDevice,
  nextPhone,
  startTestServer,
  type TestServer,
  type TestUser,
  text,
  unsafeTestingClock,
  untext,
} from './support/harness.ts';

const MONTH = 2_629_746_000;

describe('privacy settings, from three viewpoints', () => {
  let server: TestServer;
  let alice: TestUser;
  let stranger: TestUser;
  let contact: TestUser;
  let member: TestUser;
  beforeAll(async () => {
    server = await startTestServer();
    alice = await server.register(nextPhone());
    stranger = await server.register(nextPhone());
    contact = await server.register(nextPhone());
    member = await server.register(nextPhone());
    await alice.http.setUsername('alice_private');
    // A contact is two-sided: one opens the direct chat, the other accepts the message request.
    const direct = await contact.http.openDirect(alice.accountId);
    await alice.http.acceptRequest(direct.groupId);
    await member.http.createGroup('book club', [alice.accountId]);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('by default: contacts see the phone number, everybody can find it, a group member is no contact', async () => {
    expect((await stranger.http.lookup({ phone: alice.phone })).accountId).toBe(alice.accountId);
    expect(await stranger.http.lookup({ username: 'alice_private' })).not.toHaveProperty('phone');
    expect((await contact.http.lookup({ username: 'alice_private' })).phone).toBe(alice.phone);
    expect(await member.http.lookup({ username: 'alice_private' })).not.toHaveProperty('phone');
    expect((await contact.http.lookup({ accountId: alice.accountId })).lastSeenDayMs).toEqual(
      expect.any(Number),
    );
    expect(await stranger.http.lookup({ accountId: alice.accountId })).not.toHaveProperty('lastSeenDayMs');
  });

  it('"nobody" hides the number even from contacts and makes it unfindable, without saying so', async () => {
    await alice.http.updatePrivacySettings({
      phoneVisibility: 'nobody',
      phoneDiscovery: 'contacts',
      lastSeenVisibility: 'nobody',
    });
    for (const viewer of [stranger, member]) {
      await expect(viewer.http.lookup({ phone: alice.phone })).rejects.toMatchObject({
        code: 'ACCOUNT_NOT_FOUND',
      });
    }
    const seenByContact = await contact.http.lookup({ phone: alice.phone });
    expect(seenByContact.accountId).toBe(alice.accountId);
    expect(seenByContact).not.toHaveProperty('phone');
    expect(seenByContact).not.toHaveProperty('lastSeenDayMs');
    expect((await alice.http.lookup({ accountId: alice.accountId })).phone).toBe(alice.phone);

    await alice.http.updatePrivacySettings({ phoneVisibility: 'everybody', phoneDiscovery: 'nobody' });
    expect((await stranger.http.lookup({ username: 'alice_private' })).phone).toBe(alice.phone);
    await expect(contact.http.lookup({ phone: alice.phone })).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_FOUND',
    });
    expect(await alice.http.privacySettings()).toEqual({
      phoneVisibility: 'everybody',
      phoneDiscovery: 'nobody',
      lastSeenVisibility: 'nobody',
      selfDestructMonths: 6,
      groupAdd: 'everybody',
    });
    await expect(alice.http.updatePrivacySettings({ selfDestructMonths: 2 as 1 })).rejects.toMatchObject({
      code: 'REQ_INVALID',
    });
  });
});

describe('privacy-policy versions', () => {
  it('are accepted at sign-up, and a newer one at the next login', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-policy-'));
    const sqlitePath = join(dir, 'db');
    const clock = new unsafeTestingClock(Date.UTC(2026, 0, 1));
    const sms = new CapturingSms();
    const first = await startTestServer({ sqlitePath, clock, sms });
    const phone = nextPhone();
    const user = await first.register(phone);
    expect((await user.http.me()).policy).toEqual({ current: '2018-08-14', accepted: true });
    await first.close();

    const newer: PolicyVersion = {
      version: '2026-06-01',
      effectiveFrom: Date.UTC(2026, 5, 1),
      markdown: '# Courier policy 2026',
      sha256: 'x',
    };
    clock.advance(200 * 86_400_000);
    const second = await startTestServer({ sqlitePath, clock, sms, policies: [...policyVersions, newer] });
    try {
      // The old session still works, and says what is pending.
      expect((await new CourierHttp(second.url, user.token).me()).policy).toEqual({
        current: '2026-06-01',
        accepted: false,
      });
      const http = new CourierHttp(second.url);
      await http.requestCode(phone, 'login');
      const code = sms.lastCode(phone);
      await expect(http.verifyCode(phone, code, 'login', 'tablet')).rejects.toMatchObject({
        code: 'PRIVACY_POLICY_NOT_ACCEPTED',
      });
      const reply = await http.verifyCode(phone, code, 'login', 'tablet', '2026-06-01');
      expect(reply.policyVersion).toBe('2026-06-01');
      expect((await new CourierHttp(second.url, reply.token).me()).policy.accepted).toBe(true);
      const page = await (await fetch(`${second.url}/privacy`)).text();
      expect(page).toContain('Courier policy 2026');
      expect(await (await fetch(`${second.url}/privacy/2018-08-14`)).text()).toContain(
        'Requests from authorities',
      );
    } finally {
      await second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('retention rules', () => {
  it('drop IP records after the window, idle sessions, and accounts past their self-destruct period', async () => {
    const clock = new unsafeTestingClock(Date.UTC(2026, 0, 1));
    const server = await startTestServer({
      clock,
      config: { retention: { ipMonths: 12, sessionIdleDays: 365 } },
    });
    try {
      const old = await server.register(nextPhone());
      await old.http.updatePrivacySettings({ selfDestructMonths: 12 });
      // A connection from another address, long ago.
      await server.app.storage.connections.record([
        { deviceId: old.deviceId, accountId: old.accountId, ip: '198.51.100.1', at: clock.now() },
      ]);
      clock.advance(11 * MONTH);
      const quiet = await server.register(nextPhone());
      await quiet.http.updatePrivacySettings({ selfDestructMonths: 1 });
      // old comes back online (activity counts from the connection).
      const device = await connectDevice(server.url, old);
      await device.connection.stop();
      await server.app.delivery.drain();
      expect(await server.app.retention.run()).toMatchObject({
        connectionRecords: 0,
        sessions: 0,
        selfDestructedAccounts: 0,
      });

      clock.advance(2 * MONTH);
      // The 13-month-old address goes; quiet, away 2 months with a 1-month period, self-destructs.
      expect(await server.app.retention.run()).toMatchObject({
        connectionRecords: 1,
        selfDestructedAccounts: 1,
      });
      expect((await server.app.storage.connections.byAccount(old.accountId)).map((c) => c.ip)).toEqual([
        '127.0.0.1',
      ]);
      expect(await server.app.storage.accounts.byId(quiet.accountId)).toBeUndefined();
      expect(await server.app.storage.accounts.byId(old.accountId)).toBeDefined();

      clock.advance(11 * MONTH);
      // 13 months since old was last active: its idle session goes, and so does the account.
      expect(await server.app.retention.run()).toMatchObject({
        connectionRecords: 1,
        sessions: 1,
        selfDestructedAccounts: 1,
      });
      expect(await server.app.storage.accounts.byId(old.accountId)).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('never stores an IP address when the retention window is 0', async () => {
    const server = await startTestServer({ config: { retention: { ipMonths: 0 } } });
    try {
      const user = await server.register(nextPhone());
      const device = await connectDevice(server.url, user);
      await device.connection.stop();
      await server.app.delivery.drain();
      expect(await server.app.storage.connections.byAccount(user.accountId)).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('export and erasure', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-erasure-'));
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ sqlitePath: join(dir, 'courier.db') });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports every personal field of the account, and nothing of anyone else', async () => {
    const [me, other] = await Promise.all([server.register(nextPhone()), server.register(nextPhone())]);
    await me.http.setUsername('exporter_1');
    await me.http.setDisplayName('Export Me');
    await other.http.setUsername('someone_else');
    await server.app.storage.connections.record([
      { deviceId: me.deviceId, accountId: me.accountId, ip: '198.51.100.23', at: Date.now() },
      { deviceId: other.deviceId, accountId: other.accountId, ip: '203.0.113.99', at: Date.now() },
    ]);
    const group = await me.http.createGroup('Export club', [other.accountId]);
    const files = unzipSync(await me.http.exportData());
    expect(Object.keys(files).sort()).toEqual(['account.json', 'index.html']);
    const json = strFromU8(files['account.json']!);
    const data = JSON.parse(json);
    expect(data.account).toMatchObject({
      accountId: me.accountId,
      phone: me.phone,
      username: 'exporter_1',
      displayName: 'Export Me',
    });
    expect(data.privacySettings).toMatchObject({ phoneVisibility: 'contacts' });
    expect(data.policyAcceptances).toEqual([{ version: '2018-08-14', acceptedAt: expect.any(String) }]);
    expect(data.devices).toEqual([expect.objectContaining({ deviceId: me.deviceId, name: 'test' })]);
    expect(data.sessions).toHaveLength(1);
    expect(data.connectionRecords.map((c: { ip: string }) => c.ip)).toContain('198.51.100.23');
    expect(data.chats).toEqual([
      expect.objectContaining({ chatId: group.groupId, title: 'Export club', role: 'owner' }),
    ]);
    const html = strFromU8(files['index.html']!);
    expect(html).toContain('198.51.100.23');
    for (const foreign of [other.phone, 'someone_else', '203.0.113.99', other.deviceId]) {
      expect(json).not.toContain(foreign);
      expect(html).not.toContain(foreign);
    }
  });

  it('erases the account: no personal value remains anywhere in the database, and its devices read nothing new', async () => {
    const [gone, stays, third] = await Promise.all([1, 2, 3].map(() => server.register(nextPhone())));
    await gone!.http.setUsername('about_to_go');
    await gone!.http.setDisplayName('Vanishing Person');
    await server.app.storage.connections.record([
      { deviceId: gone!.deviceId, accountId: gone!.accountId, ip: '192.0.2.77', at: Date.now() },
    ]);
    const group = await gone!.http.createGroup('Leftovers', [stays!.accountId, third!.accountId]);
    await gone!.http.openDirect(stays!.accountId);
    const goneDevice = await connectDevice(server.url, gone!);
    const stayDevice = await connectDevice(server.url, stays!);
    const fatal = new Promise<string>((resolve) => goneDevice.connection.on('fatal', (e) => resolve(e.code)));

    await expect(gone!.http.deleteAccount('+44 20 0000 0000')).rejects.toMatchObject({
      code: 'ACCOUNT_DELETE_NOT_CONFIRMED',
    });
    expect(await gone!.http.deleteAccount(gone!.phone)).toEqual({ deleted: true, legalHold: false });
    expect(await fatal).toBe('AUTH_SESSION_REVOKED');
    await expect(gone!.http.me()).rejects.toMatchObject({ code: 'AUTH_INVALID_TOKEN' });

    // The group goes on without them; the owner's role passed on; the log says they left.
    const detail = await stays!.http.group(group.groupId);
    expect(detail.members.map((m) => m.accountId).sort()).toEqual(
      [stays!.accountId, third!.accountId].sort(),
    );
    expect(detail.members.some((m) => m.role === 'owner')).toBe(true);
    const thirdDevice = await connectDevice(server.url, third!);
    await stayDevice.connection.send(group.groupId, text('after they left'));
    expect((await thirdDevice.waitForMessages(1)).map((e) => untext(e.payload))).toEqual(['after they left']);
    await new Promise((r) => setTimeout(r, 200));
    expect(goneDevice.messages()).toHaveLength(0);

    // A scan of every table and column finds none of their personal values.
    for (const d of [stayDevice, thirdDevice, goneDevice]) await d.connection.stop();
    await server.app.delivery.drain();
    const personal = [gone!.phone, 'about_to_go', 'Vanishing Person', '192.0.2.77'];
    const db = new Database(join(dir, 'courier.db'), { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    for (const { name } of tables) {
      for (const row of db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]) {
        const cells = Object.values(row).map((v) =>
          v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : String(v),
        );
        for (const value of personal) expect(cells.join('|'), `${name} holds ${value}`).not.toContain(value);
      }
    }
    db.close();
    // And not in the file's bytes either (erased pages are overwritten).
    const raw = new Database(join(dir, 'courier.db'));
    raw.pragma('wal_checkpoint(TRUNCATE)');
    raw.close();
    const bytes = readFileSync(join(dir, 'courier.db')).toString('latin1');
    for (const value of personal) expect(bytes.includes(value), `file holds ${value}`).toBe(false);
  });
});
