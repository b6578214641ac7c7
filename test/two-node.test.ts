import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntryFrame } from '@courier/protocol';
import {
  type Accepted,
  ChannelClient,
  type ChannelPost,
  CourierConnection,
  CourierHttp,
  MemoryChannelKeyring,
  MemoryClientStore,
} from '@courier/sdk';
import type { CourierApp } from '@courier/server';
import { connect as connectNats } from 'nats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CapturingSms,
  connectDevice,
  nextPhone,
  startTestServer,
  type TestDevice,
  type TestServer,
  type TestUser,
  text,
  untext,
} from './support/harness.ts';
import { createTestDatabase, NATS_URL, PG_ADMIN_URL } from './support/postgres.ts';
import { secureDevice } from './support/secure.ts';

/**
 * The scaled deployment: two identical server nodes on one PostgreSQL database and one NATS
 * subject, with members connected to different nodes. Each node has its own SMS adapter, so a
 * person registers (or logs in) through one node and gets the code from that node's adapter.
 * Never skipped: without PostgreSQL or NATS the suite fails, saying which is missing.
 */

type Bus = CourierApp['bus'];
type BusSignal = Parameters<Bus['publish']>[0];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function requireServices(): Promise<{ url: string; drop: () => Promise<void> }> {
  try {
    const nc = await connectNats({ servers: [NATS_URL], timeout: 3_000 });
    await nc.close();
  } catch (error) {
    throw new Error(`NATS is not reachable at ${NATS_URL}; the two-node test needs it (CI starts it).`, {
      cause: error,
    });
  }
  try {
    return await createTestDatabase();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG_ADMIN_URL}; the two-node test needs it (CI starts it).`,
      {
        cause: error,
      },
    );
  }
}

/** Resolves once a check holds, polling. */
async function eventually(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

const bodies = (entries: readonly EntryFrame[]) => entries.map((e) => untext(e.payload));

describe('scale-out: two nodes on one PostgreSQL and one NATS', () => {
  let a: TestServer;
  let b: TestServer;
  let databaseUrl: string;
  let drop: (() => Promise<void>) | undefined;
  let keyDir: string | undefined;
  const devices: TestDevice[] = [];

  /** Connects a device and stops it after the suite, whatever happens. */
  const online = async (node: TestServer, user: TestUser) => {
    const device = await connectDevice(node.url, user);
    devices.push(device);
    return device;
  };

  /** Waits until `count` transactions of this database wait for a lock. */
  const untilWaitingForLocks = async (count: number) => {
    const observer = new pg.Client({ connectionString: databaseUrl });
    await observer.connect();
    try {
      await eventually(async () => {
        const waiting = await observer.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        return (waiting.rows[0] as { n: number }).n >= count;
      }, `${count} transaction(s) wait for a lock`);
    } finally {
      await observer.end();
    }
  };

  /** Holds a group's row locked (as any transaction that appends to it does) until released. */
  const holdGroup = async (groupId: string) => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holding = a.app.storage.transaction(async (tx) => {
      await tx.groups.adjustMemberCount(groupId, 0);
      locked();
      await released;
    });
    await isLocked;
    return {
      untilWaiting: untilWaitingForLocks,
      release: async () => {
        release();
        await holding;
      },
    };
  };

  beforeAll(async () => {
    const db = await requireServices();
    databaseUrl = db.url;
    drop = db.drop;
    // Both nodes sign the one transparency log with the operator's one key.
    keyDir = mkdtempSync(join(tmpdir(), 'courier-two-node-'));
    const config = {
      transparency: { keyFile: join(keyDir, 'operator.key') },
      // ... and certify devices with the one certification key.
      mls: { certificationKeyFile: join(keyDir, 'certification.key') },
      bus: {
        kind: 'nats' as const,
        servers: [NATS_URL],
        // Unique to this run: parallel runs (and other test files) never hear each other.
        subject: `courier.test.two-node.${randomBytes(8).toString('hex')}`,
      },
    };
    a = await startTestServer({ storage: 'postgres', databaseUrl, config, sms: new CapturingSms() });
    b = await startTestServer({ storage: 'postgres', databaseUrl, config, sms: new CapturingSms() });
    await untilBusesLive([a.app.bus, b.app.bus]);
  });

  afterAll(async () => {
    for (const d of devices) await d.connection.stop();
    await a?.close();
    await b?.close();
    await drop?.();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  it('gives each node its own SMS adapter: a code goes out through the node asked', async () => {
    const viaA = await a.register(nextPhone());
    const viaB = await b.register(nextPhone());
    expect(a.sms.sent.map((m) => m.to)).toContain(viaA.phone);
    expect(a.sms.sent.map((m) => m.to)).not.toContain(viaB.phone);
    expect(b.sms.sent.map((m) => m.to)).toContain(viaB.phone);
    expect(b.sms.sent.map((m) => m.to)).not.toContain(viaA.phone);
    // Both accounts are in the one database, whichever node is asked.
    expect((await new CourierHttp(b.url, viaA.token).me()).accountId).toBe(viaA.accountId);
    expect((await new CourierHttp(a.url, viaB.token).me()).accountId).toBe(viaB.accountId);
  });

  it('end-to-end encrypted across nodes: Welcomes, commits and messages; concurrent commits on two nodes never fork', async () => {
    const alice = await secureDevice(a, await a.register(nextPhone()));
    const bob = await secureDevice(b, await b.register(nextPhone()));
    const carol = await secureDevice(b, await b.register(nextPhone()));
    const group = await alice.client.createGroup('Sealed', [bob.user.accountId, carol.user.accountId]);
    await Promise.all([bob.joined(group.groupId), carol.joined(group.groupId)]);
    // Two members on two nodes commit for the same epoch at once: one wins, the other retries.
    await Promise.all([alice.client.updateKeys(group.groupId), bob.client.updateKeys(group.groupId)]);
    const epoch = Math.max(
      (await alice.client.epoch(group.groupId))!,
      (await bob.client.epoch(group.groupId))!,
    );
    await Promise.all([alice, bob, carol].map((d) => d.atEpoch(group.groupId, epoch)));
    await alice.client.sendText(group.groupId, 'from node A');
    await bob.client.sendText(group.groupId, 'from node B');
    expect((await carol.waitFor(group.groupId, 2)).map((m) => m.text).sort()).toEqual([
      'from node A',
      'from node B',
    ]);
    expect((await alice.waitFor(group.groupId, 1)).map((m) => m.text)).toEqual(['from node B']);
    expect([...alice.undecryptable, ...bob.undecryptable, ...carol.undecryptable]).toEqual([]);
    await Promise.all([alice, bob, carol].map((d) => d.client.stop()));
  });

  it('delivers messages sent on node A to members on node B live, in order, once', async () => {
    const alice = await a.register(nextPhone());
    const bob = await b.register(nextPhone());
    const carol = await a.register(nextPhone());
    const group = await alice.http.createGroup('Across', [bob.accountId, carol.accountId]);
    const aliceOnA = await online(a, alice);
    const bobOnB = await online(b, bob);
    const carolOnA = await online(a, carol);

    const sent = Array.from({ length: 30 }, (_, i) => `m${i}`);
    const accepted = await Promise.all(
      sent.map((body) => aliceOnA.connection.send(group.groupId, text(body))),
    );
    for (const view of [await bobOnB.waitForMessages(30), await carolOnA.waitForMessages(30)]) {
      expect(bodies(view)).toEqual(sent);
      expect(view.map((e) => e.seq)).toEqual(accepted.map((x) => x.seq));
      expect(view.every((e) => e.senderAccountId === alice.accountId)).toBe(true);
    }
    // And back: a reply on node B reaches node A.
    await bobOnB.connection.send(group.groupId, text('got them'));
    expect(bodies(await aliceOnA.waitForMessages(1))).toEqual(['got them']);
    await sleep(300);
    expect(bobOnB.messages()).toHaveLength(30);
    expect(carolOnA.messages()).toHaveLength(31);
  });

  it('pushes channel posts made through both nodes to subscribers on both nodes, each once, in one order', async () => {
    const alice = await a.register(nextPhone());
    const keyring = new MemoryChannelKeyring();
    // The owner posts through node A and through node B (one account, one channel key).
    const ownerOnA = new ChannelClient(alice.http, keyring);
    const ownerOnB = new ChannelClient(new CourierHttp(b.url, alice.token), keyring);
    const channel = await ownerOnA.create(`across_${randomBytes(4).toString('hex')}`, 'Across', 'public');
    const readers = await Promise.all(
      [a, b, a, b].map(async (node) => {
        const user = await node.register(nextPhone());
        const client = new ChannelClient(user.http, new MemoryChannelKeyring());
        await client.subscribe({ name: channel.name });
        const seen: ChannelPost[] = [];
        client.on('post', (p) => seen.push(p));
        const connection = new CourierConnection({
          url: node.url,
          token: user.token,
          store: new MemoryClientStore(),
        });
        client.attach(connection);
        connection.start();
        await connection.ready();
        return { seen, connection };
      }),
    );
    try {
      // Posted at once through both nodes: each node hands its own posts to its fan-out and reads
      // the other node's from the store on the bus signal.
      const posted = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          (i % 2 === 0 ? ownerOnA : ownerOnB).post(channel.channelId, {
            v: 1,
            type: 'text',
            text: `p${i}`,
            sentAtMs: 1,
          }),
        ),
      );
      const order = posted
        .map((p) => p.postId)
        .sort((x, y) => {
          const seqOf = (id: string) => posted.find((p) => p.postId === id)!.seq;
          return seqOf(x) - seqOf(y);
        });
      for (const r of readers) {
        await eventually(() => r.seen.length >= 24, 'every post reached the subscriber', 15_000);
      }
      await sleep(300);
      for (const r of readers) {
        expect(r.seen.map((p) => p.postId)).toEqual(order);
        expect(r.seen.every((p) => p.kind === 'verified')).toBe(true);
      }
    } finally {
      for (const r of readers) await r.connection.stop();
    }
  });

  it('honours acks made on node B when the device comes back on node A: it gets only what it missed', async () => {
    const alice = await a.register(nextPhone());
    const bob = await b.register(nextPhone());
    const group = await alice.http.createGroup('Resume', [bob.accountId]);
    const aliceOnA = await online(a, alice);
    const bobOnB = await online(b, bob);
    const first: Accepted[] = [];
    for (const body of ['one', 'two', 'three'])
      first.push(await aliceOnA.connection.send(group.groupId, text(body)));
    expect(bodies(await bobOnB.waitForMessages(3))).toEqual(['one', 'two', 'three']);
    await bobOnB.connection.stop();
    // Node B stores Bob's acknowledgement (acks are committed lazily).
    await eventually(
      async () =>
        (await a.app.storage.groups.membershipOfDevice(bob.deviceId, group.groupId))?.ackedSeq ===
        first[2]!.seq,
      'node B has stored the ack',
    );
    const missed: Accepted[] = [];
    for (const body of ['four', 'five'])
      missed.push(await aliceOnA.connection.send(group.groupId, text(body)));

    // A client that remembers nothing (a reinstall): only the server's cursor decides what comes.
    const bobOnA = await online(a, bob);
    expect(bodies(await bobOnA.waitForMessages(2))).toEqual(['four', 'five']);
    await sleep(300);
    expect(bobOnA.entries.map((e) => e.seq)).toEqual(missed.map((m) => m.seq));
  });

  it('carries roster changes made through node A to devices on node B: joins, then messages; removals', async () => {
    const alice = await a.register(nextPhone());
    const bob = await b.register(nextPhone());
    const carol = await b.register(nextPhone());
    const group = await alice.http.createGroup('Roster', [bob.accountId]);
    const aliceOnA = await online(a, alice);
    const bobOnB = await online(b, bob);
    const carolOnB = await online(b, carol);

    const joined = new Promise<{ groupId: string; fromSeq: number; entriesBefore: number }>((resolve) =>
      carolOnB.connection.on('group_joined', (j) =>
        resolve({ ...j, entriesBefore: carolOnB.entries.filter((e) => e.groupId === j.groupId).length }),
      ),
    );
    // Alice's HTTP client talks to node A.
    const detail = await alice.http.addMembers(group.groupId, [carol.accountId]);
    expect(detail.members.map((m) => m.accountId)).toContain(carol.accountId);
    const join = await joined;
    expect(join).toMatchObject({ groupId: group.groupId, entriesBefore: 0 });
    const welcome = await aliceOnA.connection.send(group.groupId, text('welcome carol'));
    expect(bodies(await carolOnB.waitForMessages(1))).toEqual(['welcome carol']);
    // Carol's view starts with the roster entry that added her, then the message; nothing older.
    const carolSeqs = carolOnB.entries.filter((e) => e.groupId === group.groupId).map((e) => [e.kind, e.seq]);
    expect(carolSeqs).toEqual([
      ['roster', join.fromSeq + 1],
      ['message', welcome.seq],
    ]);

    // A removal through node A takes Bob, on node B, out of the group.
    const left = new Promise<string>((resolve) =>
      bobOnB.connection.on('group_left', (l) => resolve(l.groupId)),
    );
    await alice.http.removeMember(group.groupId, bob.accountId);
    expect(await left).toBe(group.groupId);
    await aliceOnA.connection.send(group.groupId, text('after bob left'));
    expect(bodies(await carolOnB.waitForMessages(2))).toEqual(['welcome carol', 'after bob left']);
    await expect(bobOnB.connection.send(group.groupId, text('still here?'))).rejects.toMatchObject({
      code: 'GROUP_NOT_MEMBER',
    });
    await sleep(200);
    expect(bodies(bobOnB.messages())).toEqual(['welcome carol']);
  });

  it('disconnects from node A a device revoked through node B', async () => {
    const phone = nextPhone();
    const phoneOnB = await b.register(phone, 'phone');
    // The second device logs in through node A: its code comes from node A's adapter.
    const tablet = await a.login(phone, 'tablet');
    expect(a.sms.sent.filter((m) => m.to === phone)).toHaveLength(1);
    const tabletOnA = await online(a, tablet);
    const fatal = new Promise<string>((resolve) => tabletOnA.connection.on('fatal', (e) => resolve(e.code)));
    // phoneOnB.http talks to node B.
    await phoneOnB.http.revokeDevice(tablet.deviceId);
    expect(await fatal).toBe('AUTH_SESSION_REVOKED');
    expect(tabletOnA.connection.state).toBe('stopped');
    await expect(new CourierHttp(a.url, tablet.token).me()).rejects.toMatchObject({
      code: 'AUTH_INVALID_TOKEN',
    });
    expect((await phoneOnB.http.devices()).map((d) => d.deviceId)).toEqual([phoneOnB.deviceId]);
  });

  it('treats a retry on the other node as the same send: one entry, the same sequence number', async () => {
    const alice = await a.register(nextPhone());
    const bob = await b.register(nextPhone());
    const chat = await alice.http.openDirect(bob.accountId);
    const aliceOnA = await online(a, alice);
    const bobOnB = await online(b, bob);
    const first = await aliceOnA.connection.send(chat.groupId, text('only once'), 'retry-across-nodes-1');
    // The reply was lost; the client fails over to node B and sends again with the same id.
    const aliceOnB = await online(b, alice);
    const again = await aliceOnB.connection.send(chat.groupId, text('only once'), 'retry-across-nodes-1');
    expect(again).toMatchObject({ seq: first.seq, duplicate: true });
    await aliceOnB.connection.send(chat.groupId, text('next'));
    expect(bodies(await bobOnB.waitForMessages(2))).toEqual(['only once', 'next']);
    await sleep(200);
    expect(bobOnB.messages()).toHaveLength(2);
  });

  it('gives concurrent senders on both nodes one gap-free order that every member sees alike', async () => {
    const users = await Promise.all([a, b, a, b, a, b].map((node) => node.register(nextPhone())));
    const nodeOf = (i: number) => (i % 2 === 0 ? a : b);
    const group = await users[0]!.http.createGroup(
      'Race',
      users.slice(1).map((u) => u.accountId),
    );
    const members = await Promise.all(users.map((u, i) => online(nodeOf(i), u)));
    const senders = members.slice(0, 4);
    const watchers = members.slice(4);
    const perSender = 40;
    const body = (sender: number, n: number) => `${sender}:${n}`;
    const accepted = await Promise.all(
      senders.map((d, s) =>
        Promise.all(
          Array.from({ length: perSender }, (_, n) => d.connection.send(group.groupId, text(body(s, n)))),
        ),
      ),
    );
    const total = perSender * senders.length;

    // One sequence: every accepted number once, no gaps, right after the group's creation.
    const bySeq = new Map<number, string>();
    for (const [s, mine] of accepted.entries()) {
      for (const [n, x] of mine.entries()) {
        expect(bySeq.has(x.seq)).toBe(false);
        bySeq.set(x.seq, body(s, n));
      }
      // Each sender's messages keep the order it sent them in.
      expect(mine.map((x) => x.seq)).toEqual([...mine.map((x) => x.seq)].sort((p, q) => p - q));
    }
    const seqs = [...bySeq.keys()].sort((p, q) => p - q);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => group.lastSeq + 1 + i));

    // Watchers on both nodes see exactly that sequence, in order.
    const expected = seqs.map((seq) => [seq, bySeq.get(seq)]);
    for (const w of watchers) {
      const view = await w.waitForMessages(total, 20_000);
      expect(view.map((e) => [e.seq, untext(e.payload)])).toEqual(expected);
    }
    // Senders see everyone else's, in the same order (their own are not echoed back).
    for (const [s, d] of senders.entries()) {
      const view = await d.waitForMessages(total - perSender, 20_000);
      expect(view.map((e) => [e.seq, untext(e.payload)])).toEqual(
        expected.filter(([, text]) => !String(text).startsWith(`${s}:`)),
      );
    }
    await sleep(300);
    for (const w of watchers) expect(w.messages()).toHaveLength(total);
  });

  it('opens one direct chat when both people open it at once through different nodes', async () => {
    const alice = await a.register(nextPhone());
    const bob = await b.register(nextPhone());
    const [viaA, viaB] = await Promise.all([
      alice.http.openDirect(bob.accountId),
      bob.http.openDirect(alice.accountId),
    ]);
    expect(viaA.groupId).toBe(viaB.groupId);
    expect((await alice.http.groups()).filter((g) => g.kind === 'direct')).toHaveLength(1);
  });

  // Fixed: addMembers locks the group row before it reads who is already a member.
  it('lets two admins on two nodes add the same person at once: both succeed, she is added once', async () => {
    const owner = await a.register(nextPhone());
    const admin = await b.register(nextPhone());
    const newcomer = await a.register(nextPhone());
    const group = await owner.http.createGroup('Two admins', [admin.accountId]);
    await owner.http.setRole(group.groupId, admin.accountId, 'admin');
    // Both requests read the roster while a third transaction holds the group (so the race is
    // not left to timing), then go on one after the other.
    const hold = await holdGroup(group.groupId);
    const adding = Promise.allSettled([
      owner.http.addMembers(group.groupId, [newcomer.accountId]),
      admin.http.addMembers(group.groupId, [newcomer.accountId]),
    ]);
    await hold.untilWaiting(2);
    await hold.release();
    const outcomes = await adding;
    expect(
      outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as { code?: string }).code)),
    ).toEqual(['ok', 'ok']);
    expect((await owner.http.group(group.groupId)).memberCount).toBe(3);
  });

  // PostgreSQL (one node or many; two nodes make it likely): DeliveryService.commitGroupAppends
  // (delivery-service.ts) checks membership (`memberPairs`) BEFORE `allocateSeqs` takes the
  // group's row lock. If a removal on another node holds that lock (GroupService.removeMember:
  // appendRoster → allocateSeq, then dropMember) and commits while the send waits, the send's
  // READ COMMITTED membership read was already taken: it then gets the next number and is stored
  // after the "removed" roster entry — a message from a non-member, delivered to the remaining
  // members. Fix: lock the groups' rows first (the same `SELECT … ORDER BY id FOR UPDATE` that
  // allocateSeqs does, or allocate first), then check membership, then allocate; or re-check
  // membership after the lock and give the numbers of rejected items back before commit.
  // Fixed: the delivery batch now locks the groups' rows before it checks membership.
  it('refuses a message from a member whose removal commits while the message waits for the group', async () => {
    const alice = await a.register(nextPhone());
    const bob = await b.register(nextPhone());
    const group = await alice.http.createGroup('Removal race', [bob.accountId]);
    const bobOnB = await online(b, bob);

    // What removeMember does on node A, held open before its commit.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let removed!: () => void;
    const isRemoved = new Promise<void>((resolve) => {
      removed = resolve;
    });
    const removal = a.app.storage.transaction(async (tx) => {
      const seq = await tx.groups.allocateSeq(group.groupId, 1);
      await tx.entries.insert([
        {
          groupId: group.groupId,
          seq,
          kind: 'roster',
          senderAccountId: alice.accountId,
          senderDeviceId: '',
          clientMsgId: `roster-${seq}`,
          payload: new Uint8Array(),
          createdAt: Date.now(),
        },
      ]);
      await tx.groups.deleteMember(group.groupId, bob.accountId);
      await tx.groups.adjustMemberCount(group.groupId, -1);
      removed();
      await held;
      return seq;
    });
    // Bob sends once the removal holds the group and waits to commit.
    await isRemoved;
    const send = bobOnB.connection.send(group.groupId, text('sneaking in'));
    try {
      await untilWaitingForLocks(1);
    } finally {
      release();
    }
    const removedAt = await removal;
    const outcome = await send.then(
      (x) => ({ accepted: x.seq }),
      (error: { code?: string }) => ({ refused: error.code }),
    );
    expect({ removedAt, outcome }).toEqual({ removedAt, outcome: { refused: 'GROUP_NOT_MEMBER' } });
  });
});

/**
 * A NATS subscription is registered asynchronously: publish a harmless probe from each node until
 * every node has heard every node, so that nothing a test does is signalled before anyone listens.
 */
async function untilBusesLive(buses: Bus[]): Promise<void> {
  const heard = buses.map(() => new Set<string>());
  for (const [i, bus] of buses.entries()) {
    bus.subscribe((signal: BusSignal) => {
      if (signal.type === 'devices_revoked' && signal.deviceIds[0]?.startsWith('probe:'))
        heard[i]!.add(signal.deviceIds[0]);
    });
  }
  const deadline = Date.now() + 5_000;
  for (;;) {
    const tags = buses.map((_, i) => `probe:${i}:${randomBytes(4).toString('hex')}`);
    for (const [i, bus] of buses.entries())
      await bus.publish({ type: 'devices_revoked', deviceIds: [tags[i]!] });
    await sleep(25);
    if (heard.every((h) => tags.every((t) => h.has(t)))) return;
    if (Date.now() > deadline) throw new Error('the nodes did not hear each other on NATS within 5 s');
  }
}
