import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CapturingSms,
  connectDevice,
  nextPhone,
  startTestServer,
  type TestDevice,
  type TestServer,
  text,
  untext,
} from './support/harness.ts';
import { createTestDatabase, NATS_URL } from './support/postgres.ts';

/** Two identical nodes on one PostgreSQL and one NATS, members connected to different nodes. */
describe('scale-out: two nodes, PostgreSQL + NATS', () => {
  let a: TestServer;
  let b: TestServer;
  let drop: () => Promise<void>;
  const sms = new CapturingSms();

  beforeAll(async () => {
    const db = await createTestDatabase();
    drop = db.drop;
    const config = {
      transparency: { keyFile: join(mkdtempSync(join(tmpdir(), 'courier-key-')), 'operator.key') },
      bus: {
        kind: 'nats' as const,
        servers: [NATS_URL],
        subject: `courier.test.${randomBytes(6).toString('hex')}`,
      },
    };
    a = await startTestServer({ storage: 'postgres', databaseUrl: db.url, config, sms });
    b = await startTestServer({ storage: 'postgres', databaseUrl: db.url, config, sms });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await drop?.();
  });

  it('delivers across nodes live, honours acks made on the other node, and carries roster changes', async () => {
    const alice = await a.register(nextPhone());
    const bob = await a.register(nextPhone());
    const carol = await a.register(nextPhone());
    const group = await alice.http.createGroup('across', [bob.accountId]);
    const onA = await connectDevice(a.url, alice);
    let onB: TestDevice = await connectDevice(b.url, bob);

    await onA.connection.send(group.groupId, text('one'));
    await onA.connection.send(group.groupId, text('two'));
    expect((await onB.waitForMessages(2)).map((e) => untext(e.payload))).toEqual(['one', 'two']);

    // Bob's acks were made on node B; his device comes back on node A with an empty store and
    // must get only what it missed.
    await onB.connection.stop();
    while (b.app.gateway.connectionCount > 0) await new Promise((r) => setTimeout(r, 10));
    await b.app.delivery.drain();
    await onA.connection.send(group.groupId, text('three'));
    onB = await connectDevice(a.url, bob);
    expect((await onB.waitForMessages(1)).map((e) => untext(e.payload))).toEqual(['three']);

    // A roster change made through node A reaches a device connected to node B.
    const carolOnB = await connectDevice(b.url, carol);
    const joined = new Promise<string>((resolve) =>
      carolOnB.connection.on('group_joined', (j) => resolve(j.groupId)),
    );
    await alice.http.addMembers(group.groupId, [carol.accountId]);
    expect(await joined).toBe(group.groupId);
    await onA.connection.send(group.groupId, text('welcome carol'));
    expect((await carolOnB.waitForMessages(1)).map((e) => untext(e.payload))).toEqual(['welcome carol']);

    for (const d of [onA, onB, carolOnB]) await d.connection.stop();
  });

  it('closes a device revoked through the other node', async () => {
    const phone = nextPhone();
    const first = await a.register(phone);
    const second = await a.login(phone, 'phone-2');
    const device = await connectDevice(a.url, second);
    const fatal = new Promise<string>((resolve) => device.connection.on('fatal', (e) => resolve(e.code)));
    const viaB = new (await import('@courier/sdk')).CourierHttp(b.url, first.token);
    await viaB.revokeDevice(second.deviceId);
    expect(await fatal).toBe('AUTH_SESSION_REVOKED');
  });

  it('gives concurrent senders on both nodes one gap-free order that every member sees alike', async () => {
    const users = await Promise.all([1, 2, 3, 4].map(() => a.register(nextPhone())));
    const group = await users[0]!.http.createGroup(
      'race',
      users.slice(1).map((u) => u.accountId),
    );
    const devices = await Promise.all(users.map((u, i) => connectDevice(i % 2 === 0 ? a.url : b.url, u)));
    const perSender = 50;
    await Promise.all(
      devices.map(async (d, i) => {
        const pending = [];
        for (let m = 0; m < perSender; m++) pending.push(d.connection.send(group.groupId, text(`${i}:${m}`)));
        await Promise.all(pending);
      }),
    );
    const total = perSender * devices.length;
    const views = await Promise.all(devices.map((d) => d.waitForMessages(total - perSender, 20_000)));
    const everything = new Map<number, string>();
    for (const view of views) {
      for (const e of view) {
        const body = untext(e.payload);
        const known = everything.get(e.seq);
        if (known !== undefined) expect(known).toBe(body);
        everything.set(e.seq, body);
      }
    }
    const seqs = [...everything.keys()].sort((x, y) => x - y);
    expect(seqs).toHaveLength(total);
    expect(seqs[seqs.length - 1]! - seqs[0]! + 1).toBe(total);
    for (const [i, view] of views.entries()) {
      for (let s = 0; s < devices.length; s++) {
        if (s === i) continue;
        const mine = view.map((e) => untext(e.payload)).filter((b) => b.startsWith(`${s}:`));
        expect(mine).toEqual(Array.from({ length: perSender }, (_, m) => `${s}:${m}`));
      }
    }
    for (const d of devices) await d.connection.stop();
  });
});
