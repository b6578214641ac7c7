/**
 * Issue 12, the report part: a report carries exactly what its reporter chose to forward from
 * their own decrypted history (a marker in a message they did not forward never reaches the
 * server), lands in the desk's moderation queue, and a suspension takes two different moderators,
 * every step audited. A suspended account is refused on HTTP, on the WebSocket and at sign-in,
 * with ACCOUNT_SUSPENDED and how to appeal; lifting it also takes two.
 */
import { randomBytes } from 'node:crypto';
import {
  type CourierError,
  decodeServerFrame,
  encodeClientFrame,
  GATEWAY_PATH,
  PROTOCOL_VERSION,
  periodOf,
} from '@courier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CourierHttp } from '@courier/sdk';
import { collectAccountData } from '../packages/server/src/privacy/export-archive.ts';
import { addStaff, DESK_PASSWORD, totpCode } from './support/desk-staff.ts';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { type SecureDevice, secureDevice } from './support/secure.ts';

/** The first frame the gateway answers a hello with: `ready`, or an error code. */
async function helloAnswer(url: string, token: string): Promise<string> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}${GATEWAY_PATH}`);
  try {
    return await new Promise<string>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () =>
        ws.send(
          encodeClientFrame({ type: 'hello', protocolVersion: PROTOCOL_VERSION, token, client: 'test' }),
        ),
      );
      ws.on('message', (data) => {
        const frame = decodeServerFrame(new Uint8Array(data as Buffer));
        resolve(frame.type === 'error' ? frame.code : frame.type);
      });
    });
  } finally {
    ws.terminate();
  }
}

describe('reports and two-staff suspension', () => {
  let server: TestServer;
  let reporter: SecureDevice;
  let abuser: SecureDevice;
  let chatId: string;
  const tokens = new Map<string, string>();
  const unforwarded = `UNFORWARDED-${randomBytes(8).toString('hex')}`;
  const forwarded = [
    `FORWARDED-1-${randomBytes(4).toString('hex')}`,
    `FORWARDED-2-${randomBytes(4).toString('hex')}`,
  ];

  async function desk(method: string, path: string, staff?: string, body?: unknown) {
    const response = await fetch(`${server.url}/desk/v1${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(staff ? { authorization: `Desk ${tokens.get(staff)}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  beforeAll(async () => {
    server = await startTestServer();
    const secrets = await addStaff(server, [
      ['mod.one', ['moderator']],
      ['mod.two', ['moderator']],
      ['approver.one', ['approver']],
      ['auditor.one', ['auditor']],
    ]);
    for (const [username, secret] of secrets) {
      const login = await desk('POST', '/login', undefined, {
        username,
        password: DESK_PASSWORD,
        code: totpCode(secret),
      });
      tokens.set(username, login.body.token);
    }
    reporter = await secureDevice(server, await server.register(nextPhone()));
    abuser = await secureDevice(server, await server.register(nextPhone()));
    chatId = (await reporter.client.openDirect(abuser.user.accountId)).groupId;
    await abuser.joined(chatId);
    await abuser.client.sendText(chatId, `${unforwarded} an earlier message`);
    for (const text of forwarded) await abuser.client.sendText(chatId, text);
    await reporter.waitFor(chatId, 3);
  });
  afterAll(async () => {
    await reporter?.client.stop();
    await abuser?.client.stop();
    await server?.close();
  });

  let reportId: string;

  it('shows the reporter exactly what will be forwarded, and the desk receives exactly that', async () => {
    const draft = await reporter.client.draftReport(chatId, { reason: 'abuse', last: 2, comment: 'threats' });
    expect(draft.body).toEqual({
      chatId,
      reason: 'abuse',
      comment: 'threats',
      messages: forwarded.map((text) => ({
        senderAccountId: abuser.user.accountId,
        sentAtMs: expect.any(Number),
        text,
      })),
    });
    expect(JSON.stringify(draft)).not.toContain(unforwarded);
    ({ reportId } = await reporter.client.sendReport(draft));

    const queue = await desk('GET', '/moderation/reports?state=open', 'mod.one');
    expect(queue.body.reports).toEqual([
      expect.objectContaining({
        reportId,
        state: 'open',
        reason: 'abuse',
        chatId,
        reporterAccountId: reporter.user.accountId,
        // The other person of a direct chat, filled in by the server.
        reportedAccountId: abuser.user.accountId,
        messageCount: 2,
        suspension: 'active',
      }),
    ]);
    const read = await desk('GET', `/moderation/reports/${reportId}`, 'mod.one');
    expect(read.body.messages).toEqual(draft.body.messages);
    expect(read.body.comment).toBe('threats');
    // Nothing of the message the reporter did not forward, anywhere the server keeps reports.
    expect(JSON.stringify(read.body)).not.toContain(unforwarded);
    const stored = await server.app.storage.reports.byId(reportId);
    expect(JSON.stringify(stored)).not.toContain(unforwarded);
    expect(stored?.messages.map((m) => m.text)).toEqual(forwarded);
  });

  it('refuses reports that are malformed, about chats the reporter is not in, or carry extra fields', async () => {
    const http = reporter.user.http;
    const base = { chatId, reason: 'spam', messages: [] };
    const refused = async (body: unknown) => {
      try {
        await http.call('POST', '/v1/reports', body);
        return 'accepted';
      } catch (error) {
        return (error as CourierError).code;
      }
    };
    expect(await refused({ ...base, reason: 'annoying' })).toBe('REQ_INVALID');
    expect(await refused({ ...base, deviceKeys: 'x' })).toBe('REQ_INVALID');
    expect(
      await refused({ ...base, messages: [{ senderAccountId: 'u', sentAtMs: 1, text: 'x', seq: 3 }] }),
    ).toBe('REQ_INVALID');
    const stranger = await server.register(nextPhone());
    expect(await refused({ ...base, reportedAccountId: reporter.user.accountId })).toBe('REPORT_INVALID');
    const otherChat = (await stranger.http.createGroup('elsewhere', [])).groupId;
    expect(await refused({ ...base, chatId: otherChat })).toBe('GROUP_NOT_FOUND');
  });

  it('lets only moderators read the queue; the legal desk roles get LEGAL_NOT_AUTHORIZED', async () => {
    for (const staff of ['approver.one', 'auditor.one']) {
      expect((await desk('GET', '/moderation/reports', staff)).body.error.code).toBe('LEGAL_NOT_AUTHORIZED');
      expect((await desk('GET', `/moderation/reports/${reportId}`, staff)).body.error.code).toBe(
        'LEGAL_NOT_AUTHORIZED',
      );
    }
    // A moderator has no step of the legal desk either.
    expect((await desk('GET', '/requests', 'mod.one')).body.error.code).toBe('LEGAL_NOT_AUTHORIZED');
    expect((await desk('GET', '/moderation/reports')).status).toBe(401);
  });

  it('suspends only with two different moderators, audited; the account is then refused everywhere', async () => {
    const account = abuser.user.accountId;
    const path = `/moderation/suspensions/${account}`;
    // Approving with nothing proposed is a state error.
    expect((await desk('POST', `${path}/approve`, 'mod.one')).body.error.code).toBe('MODERATION_STATE');
    expect((await desk('POST', `${path}/propose`, 'mod.one', { reportId })).body).toMatchObject({
      state: 'proposed',
      proposedBy: expect.any(String),
    });
    // One staff member alone cannot suspend.
    expect((await desk('POST', `${path}/approve`, 'mod.one')).body.error.code).toBe('MODERATION_SAME_STAFF');
    const fatal = new Promise<string>((resolve) => abuser.client.on('fatal', (e) => resolve(e.code)));
    expect((await desk('POST', `${path}/approve`, 'mod.two')).body).toMatchObject({ state: 'suspended' });
    // Its live connection is closed at once (its session ended).
    expect(await fatal).toBe('AUTH_SESSION_REVOKED');

    // HTTP with the old token, the WebSocket, and signing in again: ACCOUNT_SUSPENDED, with how to appeal.
    const me = await fetch(`${server.url}/v1/me`, {
      headers: { authorization: `Bearer ${abuser.user.token}` },
    });
    expect(me.status).toBe(403);
    const envelope = (await me.json()) as { error: { code: string; details: { appeal: string } } };
    expect(envelope.error.code).toBe('ACCOUNT_SUSPENDED');
    expect(envelope.error.details.appeal).toMatch(/appeal/);
    expect(await helloAnswer(server.url, abuser.user.token)).toBe('ACCOUNT_SUSPENDED');
    await expect(server.login(abuser.user.phone)).rejects.toMatchObject({ code: 'ACCOUNT_SUSPENDED' });
    // The reporter is untouched.
    expect(await helloAnswer(server.url, reporter.user.token)).toBe('ready');

    const audit = await desk('GET', '/audit', 'auditor.one');
    const steps = (audit.body.entries as { action: string; caseId: string | null }[])
      .filter((e) => e.caseId === account || e.caseId === reportId)
      .map((e) => e.action)
      .sort();
    // Every step, the refused and denied ones too (entries of one millisecond have no order: sorted).
    expect(steps).toEqual(
      [
        'read_report',
        'read_report_denied',
        'read_report_denied',
        'approve_suspension_refused',
        'propose_suspension',
        'approve_suspension_refused',
        'approve_suspension:suspended',
      ].sort(),
    );
  });

  it('counts the suspension in the transparency log and report, with no personal data in the leaf', async () => {
    const leaves = (
      (await (await fetch(`${server.url}/v1/transparency/leaves`)).json()) as { leaves: { leaf: string }[] }
    ).leaves.map((l) => l.leaf);
    const suspensions = leaves.filter((l) => l.includes('"suspension"'));
    expect(suspensions).toHaveLength(1);
    const leaf = JSON.parse(suspensions[0]!) as Record<string, unknown>;
    expect(Object.keys(leaf).sort()).toEqual(['action', 'at', 'reason', 'type', 'v']);
    expect(leaf).toMatchObject({ type: 'suspension', action: 'suspended', reason: 'abuse' });
    expect((leaf.at as number) % 86_400_000).toBe(0);
    for (const secret of [abuser.user.accountId, reporter.user.accountId, reportId, ...forwarded])
      expect(suspensions[0]).not.toContain(secret);
    const period = periodOf(Date.now());
    const report = (await (await fetch(`${server.url}/v1/transparency/reports/${period}`)).json()) as {
      moderation: unknown;
    };
    expect(report.moderation).toEqual({ suspended: 1, lifted: 0, suspendedByReason: { abuse: 1 } });
  });

  it('lifts a suspension only with two different moderators; then the person can sign in again', async () => {
    const account = abuser.user.accountId;
    const path = `/moderation/suspensions/${account}`;
    expect((await desk('POST', `${path}/propose-lift`, 'mod.two')).body.state).toBe('lift_proposed');
    // Still suspended while the lift is only proposed.
    await expect(server.login(abuser.user.phone)).rejects.toMatchObject({ code: 'ACCOUNT_SUSPENDED' });
    expect((await desk('POST', `${path}/approve`, 'mod.two')).body.error.code).toBe('MODERATION_SAME_STAFF');
    expect((await desk('POST', `${path}/approve`, 'mod.one')).body.state).toBe('active');
    const again = await server.login(abuser.user.phone);
    expect(await helloAnswer(server.url, again.token)).toBe('ready');
    // The tokens the suspension ended stay ended: the device signs in again.
    expect(await helloAnswer(server.url, abuser.user.token)).toBe('AUTH_INVALID_TOKEN');
  });

  it('leaves no session to a sign-in that ran beside the approval, whichever committed first', async () => {
    const storage = server.app.storage;
    const original = storage.transaction.bind(storage);
    /** Runs `between` once, right after the next transaction commits (a concurrent writer's commit). */
    const afterNextCommit = (between: () => Promise<void>) => {
      storage.transaction = async (work) => {
        storage.transaction = original;
        const result = await original(work);
        await between();
        return result;
      };
    };
    const suspendedRow = (accountId: string) => ({
      accountId,
      state: 'suspended' as const,
      reportId: null,
      proposedBy: 's_test',
      proposedAt: Date.now(),
      suspendedAt: Date.now(),
      version: 1,
    });
    try {
      // The approval commits after the sign-in's transaction checked: the sign-in sees it afterwards.
      const late = await server.register(nextPhone());
      const http = new CourierHttp(server.url);
      await http.requestCode(late.phone);
      const { version } = await http.privacyPolicy();
      afterNextCommit(async () => {
        expect(await storage.suspensions.put(suspendedRow(late.accountId), undefined)).toBe(true);
      });
      await expect(
        http.verifyCode(late.phone, server.sms.lastCode(late.phone), 'login', 'racer', version),
      ).rejects.toMatchObject({ code: 'ACCOUNT_SUSPENDED' });
      expect(await storage.sessions.byAccount(late.accountId)).toHaveLength(1); // the one from before

      // A sign-in commits its session right after the approval read the sessions: the sweep after
      // the approval's commit ends it too.
      const early = await server.register(nextPhone());
      const path = `/moderation/suspensions/${early.accountId}`;
      expect((await desk('POST', `${path}/propose`, 'mod.one')).body.state).toBe('proposed');
      const racer = 'h_racing_session';
      afterNextCommit(async () => {
        await storage.sessions.insert({
          tokenHash: racer,
          deviceId: early.deviceId,
          accountId: early.accountId,
          createdAt: Date.now(),
          lastUsedAt: Date.now(),
        });
      });
      expect((await desk('POST', `${path}/approve`, 'mod.two')).body.state).toBe('suspended');
      expect(await storage.sessions.byAccount(early.accountId)).toEqual([]);
      expect(await storage.suspensions.suspendedSession(racer)).toBe(early.accountId);
    } finally {
      storage.transaction = original;
    }
  });

  it('marks a report handled once', async () => {
    expect((await desk('POST', `/moderation/reports/${reportId}/handled`, 'mod.one')).status).toBe(204);
    expect((await desk('POST', `/moderation/reports/${reportId}/handled`, 'mod.two')).body.error.code).toBe(
      'MODERATION_STATE',
    );
    expect((await desk('GET', '/moderation/reports?state=open', 'mod.one')).body.reports).toEqual([]);
  });

  it("puts the reports I filed in my export; the reported person's export does not list them", async () => {
    const mine = await collectAccountData(server.app.storage, reporter.user.accountId, Date.now(), 'v');
    expect(mine.reportsFiled).toEqual([
      expect.objectContaining({ reportId, reason: 'abuse', messages: expect.any(Array), state: 'handled' }),
    ]);
    const theirs = await collectAccountData(server.app.storage, abuser.user.accountId, Date.now(), 'v');
    expect(theirs.reportsFiled).toEqual([]);
    expect(JSON.stringify(theirs)).not.toContain(reportId);
  });

  it('keeps a report when its reporter erases their account, without their name; retention deletes it', async () => {
    await reporter.client.stop();
    await reporter.user.http.deleteAccount(reporter.user.phone);
    const kept = await server.app.storage.reports.byId(reportId);
    expect(kept?.reporterAccountId).toBeNull();
    expect(kept?.messages.map((m) => m.text)).toEqual(forwarded);
    const month = 2_629_746_000;
    expect(await server.app.storage.reports.deleteOlderThan(Date.now() + 12 * month)).toBe(1);
    expect(await server.app.storage.reports.byId(reportId)).toBeUndefined();
  });
});
