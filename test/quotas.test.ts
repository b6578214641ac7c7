import { randomUUID } from 'node:crypto';
import {
  type ClaimKeyPackagesReply,
  type CourierError,
  closeCodes,
  decodeServerFrame,
  encodeClientFrame,
  GATEWAY_PATH,
  type KeyPackageStockReply,
  type MailboxItemFrame,
  PROTOCOL_VERSION,
  type ServerFrame,
  toBase64,
} from '@courier/protocol';
import { opaqueApplicationMessage } from '@courier/mls';
import { MemoryMlsStore, SecureClient } from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  connectDevice,
  nextPhone,
  type StorageKind,
  startTestServer,
  type TestServer,
  type TestUser,
  unsafeTestingClock,
} from './support/harness.ts';
import { secureDevice } from './support/secure.ts';

/**
 * Quotas on signed-in clients (issue 11, item 4): each shows that the abuse is bounded and that
 * well-behaved use still works.
 */

const KiB = 1024;
const payloadBytes = (rows: readonly { payload: Uint8Array }[]) =>
  rows.reduce((sum, r) => sum + r.payload.byteLength, 0);

describe('catch-up pages', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { limits: { catchUpPageBytes: 600 * KiB } } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('are read from the store in pages bounded in bytes, and a device still gets everything in order', async () => {
    const alice = await server.register(nextPhone());
    const bob = await server.register(nextPhone());
    const chat = await alice.http.openDirect(bob.accountId);
    const a = await connectDevice(server.url, alice);
    const big = (i: number) => new Uint8Array(200 * KiB).fill(i);
    for (let i = 0; i < 20; i++) await a.connection.send(chat.groupId, big(i), `big-${i}`);
    for (let i = 0; i < 10; i++) await a.connection.sendToDevice(bob.deviceId, big(100 + i), `dev-${i}`);
    await a.connection.stop();

    // Every read the server makes for Bob, through the real store.
    const { entries, mailbox } = server.app.storage;
    const pages: { rows: number; bytes: number }[] = [];
    const entriesRange = entries.range.bind(entries);
    const mailboxRange = mailbox.range.bind(mailbox);
    entries.range = async (...args) => {
      const rows = await entriesRange(...args);
      pages.push({ rows: rows.length, bytes: payloadBytes(rows) });
      return rows;
    };
    mailbox.range = async (...args) => {
      const rows = await mailboxRange(...args);
      pages.push({ rows: rows.length, bytes: payloadBytes(rows) });
      return rows;
    };
    const items: MailboxItemFrame[] = [];
    try {
      const b = await connectDevice(server.url, bob, { onMailboxItem: (item) => void items.push(item) });
      const got = await b.waitForMessages(20, 20_000);
      expect(got.map((e) => e.clientMsgId)).toEqual(Array.from({ length: 20 }, (_, i) => `big-${i}`));
      expect(got.every((e, i) => e.payload.every((byte) => byte === i))).toBe(true);
      while (items.length < 10) await new Promise((r) => setTimeout(r, 20));
      expect(items.map((item) => item.clientMsgId)).toEqual(Array.from({ length: 10 }, (_, i) => `dev-${i}`));
      await b.connection.stop();
    } finally {
      entries.range = entriesRange;
      mailbox.range = mailboxRange;
    }
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) if (page.rows > 1) expect(page.bytes).toBeLessThanOrEqual(600 * KiB);
  });
});

describe('MLS commits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('from someone outside the chat are refused before anything in them is parsed', async () => {
    const alice = await server.register(nextPhone());
    const bob = await server.register(nextPhone());
    const stranger = await server.register(nextPhone());
    const chat = await alice.http.openDirect(bob.accountId);
    const post = (who: TestUser, body: object) =>
      who.http
        .call('POST', `/v1/groups/${chat.groupId}/mls/commits`, { clientMsgId: randomUUID(), ...body })
        .catch((error: unknown) => (error as CourierError).code);
    // Garbage that parsing would reject says nothing to a stranger: the roster check comes first.
    const garbage = toBase64(new Uint8Array(64 * 1024).fill(0xee));
    expect(await post(stranger, { commit: garbage })).toBe('GROUP_NOT_FOUND');
    expect(await post(stranger, { commit: garbage, welcome: garbage, ratchetTree: garbage })).toBe(
      'GROUP_NOT_FOUND',
    );
    // A member still learns what is wrong with the commit.
    expect(await post(bob, { commit: garbage })).toBe('MLS_MALFORMED');
    // Not even the request body is read and parsed for a stranger.
    const raw = await fetch(new URL(`/v1/groups/${chat.groupId}/mls/commits`, server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${stranger.token}`, 'content-type': 'application/json' },
      body: `{"clientMsgId": "x", "commit": "${'A'.repeat(1024 * 1024)}`,
    });
    expect(((await raw.json()) as { error: { code: string } }).error.code).toBe('GROUP_NOT_FOUND');
    // For a member, the body's own cheap checks still come before parsing the commit.
    expect(await post(bob, { commit: garbage, clientMsgId: 'not valid!' })).toBe('MSG_CLIENT_ID_INVALID');
  });
});

describe('send_to_device', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("reaches one's own devices and people one shares a chat with, never a stranger's mailbox", async () => {
    const alice = await server.register(nextPhone());
    const alicePhone = await server.login(alice.phone);
    const bob = await server.register(nextPhone());
    const stranger = await server.register(nextPhone());
    const items: MailboxItemFrame[] = [];
    const b = await connectDevice(server.url, bob, { onMailboxItem: (item) => void items.push(item) });
    const s = await connectDevice(server.url, stranger);
    const refused = await s.connection
      .sendToDevice(bob.deviceId, new Uint8Array(1000), 'spam-1')
      .catch((error: unknown) => (error as CourierError).code);
    expect(refused).toBe('MSG_NOT_A_CONTACT');
    expect(await server.app.storage.mailbox.range(bob.deviceId, 0, 10)).toEqual([]);

    // One's own other device is fine, and so is anyone once a chat is shared.
    const a = await connectDevice(server.url, alice);
    await a.connection.sendToDevice(alicePhone.deviceId, new Uint8Array([1]), 'own-1');
    expect(
      await a.connection.sendToDevice(bob.deviceId, new Uint8Array([2]), 'early').catch((e) => e.code),
    ).toBe('MSG_NOT_A_CONTACT');
    await alice.http.openDirect(bob.accountId);
    await a.connection.sendToDevice(bob.deviceId, new Uint8Array([3]), 'friend-1');
    while (items.length < 1) await new Promise((r) => setTimeout(r, 20));
    expect(items.map((item) => item.clientMsgId)).toEqual(['friend-1']);
    await Promise.all([a, b, s].map((d) => d.connection.stop()));
  });
});

/** A bare WebSocket that says hello and records what the server sends, until it closes. */
async function bareSocket(server: TestServer, token: string, sendOnly: boolean) {
  const url = new URL(GATEWAY_PATH, server.url);
  url.protocol = 'ws:';
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const frames: ServerFrame[] = [];
  ws.on('message', (data) => frames.push(decodeServerFrame(new Uint8Array(data as Buffer))));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(
    encodeClientFrame({ type: 'hello', protocolVersion: PROTOCOL_VERSION, token, client: 'bare', sendOnly }),
  );
  // The server's first answer: ready, or an error before it closes.
  while (frames.length === 0 && ws.readyState === ws.OPEN) await new Promise((r) => setTimeout(r, 5));
  return { ws, frames, closed, first: frames[0] };
}

describe('sockets', () => {
  let server: TestServer;
  const sockets: WebSocket[] = [];
  beforeAll(async () => {
    server = await startTestServer({ config: { limits: { socketsPerDevice: 3, socketsPerAccount: 4 } } });
  });
  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    await server?.close();
  });

  it('are limited per device and per account, with a typed error; a reconnect that takes over is not refused', async () => {
    const alice = await server.register(nextPhone());
    const open = async (token: string, sendOnly: boolean) => {
      const socket = await bareSocket(server, token, sendOnly);
      sockets.push(socket.ws);
      return socket;
    };
    // One receiving connection and two send-only ones: the device's three.
    const receiving = await open(alice.token, false);
    expect(receiving.first?.type).toBe('ready');
    for (let i = 0; i < 2; i++) expect((await open(alice.token, true)).first?.type).toBe('ready');
    const fourth = await open(alice.token, true);
    expect(fourth.first).toMatchObject({ type: 'error', code: 'AUTH_TOO_MANY_SOCKETS' });
    expect(await fourth.closed).toBe(closeCodes.TOO_MANY_SOCKETS);
    // A new receiving connection replaces the old one, so it fits.
    const again = await open(alice.token, false);
    expect(again.first?.type).toBe('ready');
    expect(await receiving.closed).toBe(closeCodes.REPLACED);

    // A second device of the account has room for one more: the account's fourth socket.
    const phone = await server.login(alice.phone);
    expect((await open(phone.token, true)).first?.type).toBe('ready');
    const fifth = await open(phone.token, false);
    expect(fifth.first).toMatchObject({ type: 'error', code: 'AUTH_TOO_MANY_SOCKETS' });
    expect(await fifth.closed).toBe(closeCodes.TOO_MANY_SOCKETS);
    // Closing one frees its place.
    again.ws.close();
    await again.closed;
    while (server.app.gateway.connectionCount > 3) await new Promise((r) => setTimeout(r, 5));
    expect((await open(phone.token, false)).first?.type).toBe('ready');
  });
});

describe('connecting', () => {
  let server: TestServer;
  const clock = new unsafeTestingClock(Date.now());
  const sockets: WebSocket[] = [];
  beforeAll(async () => {
    server = await startTestServer({
      clock,
      config: { limits: { connectsPerDevice: 5, connectWindowMs: 60_000 } },
    });
  });
  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    await server?.close();
  });

  it('is rate-limited per device: a reconnect loop is refused until the window passes', async () => {
    const alice = await server.register(nextPhone());
    const bob = await server.register(nextPhone());
    const connect = async (user: TestUser) => {
      const socket = await bareSocket(server, user.token, false);
      sockets.push(socket.ws);
      return socket;
    };
    for (let i = 0; i < 5; i++) expect((await connect(alice)).first?.type).toBe('ready');
    const sixth = await connect(alice);
    expect(sixth.first).toMatchObject({ type: 'error', code: 'AUTH_RATE_LIMITED' });
    expect(await sixth.closed).toBe(closeCodes.TOO_MANY_SOCKETS);
    // Another device is not affected; the same device is, after the window, welcome again.
    expect((await connect(bob)).first?.type).toBe('ready');
    clock.advance(60_001);
    expect((await connect(alice)).first?.type).toBe('ready');
  });
});

describe('sends in flight', () => {
  let server: TestServer;
  const sockets: WebSocket[] = [];
  beforeAll(async () => {
    server = await startTestServer({
      config: { limits: { inFlightBytesPerSocket: 1024 * KiB, inFlightSendsPerSocket: 32 } },
    });
  });
  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    await server?.close();
  });

  /**
   * Holds every send the gateway hands to the delivery service until `release`, and counts what it
   * holds; then pipelines `count` sends of `size` bytes and a ping from a bare socket.
   */
  async function pipeline(count: number, size: number) {
    const alice = await server.register(nextPhone());
    const bob = await server.register(nextPhone());
    const chat = await alice.http.openDirect(bob.accountId);
    const { delivery } = server.app;
    const append = delivery.appendToGroup.bind(delivery);
    let held = { sends: 0, bytes: 0 };
    let most = { sends: 0, bytes: 0 };
    let gate: (() => void)[] | undefined = [];
    delivery.appendToGroup = async (sender, groupId, clientMsgId, payload) => {
      if (gate) {
        held = { sends: held.sends + 1, bytes: held.bytes + payload.byteLength };
        most = { sends: Math.max(most.sends, held.sends), bytes: Math.max(most.bytes, held.bytes) };
        await new Promise<void>((resolve) => gate?.push(resolve));
      }
      return append(sender, groupId, clientMsgId, payload);
    };
    const release = () => {
      for (const resolve of gate ?? []) resolve();
      gate = undefined;
      delivery.appendToGroup = append;
    };
    const socket = await bareSocket(server, alice.token, true);
    sockets.push(socket.ws);
    const body = new Uint8Array(size).fill(9);
    for (let i = 0; i < count; i++) {
      const payload = opaqueApplicationMessage(chat.groupId, body);
      socket.ws.send(
        encodeClientFrame({
          type: 'send',
          requestId: i + 1,
          groupId: chat.groupId,
          clientMsgId: `p-${i}`,
          payload,
        }),
      );
    }
    socket.ws.send(encodeClientFrame({ type: 'ping', nonce: 7 }));
    const pong = () => socket.frames.some((f) => f.type === 'pong');
    return { socket, chat, release, pong, held: () => held, most: () => most };
  }

  async function until(condition: () => boolean, ms: number): Promise<void> {
    for (let waited = 0; !condition() && waited < ms; waited += 10)
      await new Promise((r) => setTimeout(r, 10));
  }

  it.each([
    ['bytes', 40, 256 * KiB],
    ['sends', 400, 100],
  ])(
    'are bounded in %s: the server stops reading a socket whose sends it has not answered, and loses none',
    async (_, count, size) => {
      const run = await pipeline(count, size);
      try {
        // The server reads sends until the window is full...
        await until(() => run.held().bytes >= 1024 * KiB || run.held().sends >= 32, 10_000);
        // ...and then nothing more from this socket (the ping behind the sends stays unread).
        await until(run.pong, 1000);
        expect(run.pong()).toBe(false);
        expect(run.most().bytes).toBeLessThanOrEqual(1024 * KiB + 2 * size);
        expect(run.most().sends).toBeLessThanOrEqual(32 + Math.ceil((64 * KiB) / size));
      } finally {
        run.release();
      }
      // Once answered, it reads on: every send is accepted, in order, none refused.
      const answered = () => run.socket.frames.filter((f) => f.type === 'accepted' || f.type === 'error');
      await until(() => run.pong() && answered().length >= count, 20_000);
      expect(run.pong()).toBe(true);
      const answers = answered();
      expect(answers.every((f) => f.type === 'accepted')).toBe(true);
      expect(answers).toHaveLength(count);
      const stored = await server.app.storage.entries.range(run.chat.groupId, 0, 10_000);
      expect(stored.filter((e) => e.kind === 'message').map((e) => e.clientMsgId)).toEqual(
        Array.from({ length: count }, (_, i) => `p-${i}`),
      );
    },
  );
});

describe('claiming key packages', () => {
  let server: TestServer;
  const clock = new unsafeTestingClock(Date.now());
  beforeAll(async () => {
    server = await startTestServer({
      clock,
      config: {
        limits: {
          keyPackageClaimWindowMs: 3_600_000,
          oneTimeClaimsPerDevice: 3,
          oneTimeClaimsPerClaimerPerDevice: 2,
          claimRequestsPerClaimer: 6,
        },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A device that publishes five one-time key packages and a last-resort one, then goes away. */
  async function publisher(): Promise<TestUser & { store: MemoryMlsStore }> {
    const user = await server.register(nextPhone());
    const store = new MemoryMlsStore();
    const client = new SecureClient({
      url: server.url,
      token: user.token,
      accountId: user.accountId,
      deviceId: user.deviceId,
      store,
      keyPackageStock: 5,
    });
    await client.start();
    await client.stop();
    return { ...user, store };
  }

  it('is limited per target device and per claimer: nobody drains a stock, and the last-resort package still works', async () => {
    const [bob, carol] = [await publisher(), await publisher()];
    const [mallory, trent] = [await server.register(nextPhone()), await server.register(nextPhone())];
    const claim = async (who: TestUser, target: TestUser) => {
      const reply = await who.http.call<ClaimKeyPackagesReply>('POST', '/v1/mls/key-packages/claim', {
        accountIds: [target.accountId],
      });
      expect(reply.keyPackages).toHaveLength(1);
      return reply.keyPackages[0]!.lastResort;
    };
    const claims = async (who: TestUser, target: TestUser, count: number) => {
      const lastResort = [];
      for (let i = 0; i < count; i++) lastResort.push(await claim(who, target));
      return lastResort;
    };
    const stock = async (user: TestUser) =>
      (await user.http.call<KeyPackageStockReply>('GET', '/v1/me/device/key-packages')).oneTime;

    // Two one-time packages of Bob's device per window for Mallory; then its last-resort one.
    expect(await claims(mallory, bob, 4)).toEqual([false, false, true, true]);
    expect(await stock(bob)).toBe(3);
    // Three for everyone together: Trent gets the third.
    expect(await claims(trent, bob, 3)).toEqual([false, true, true]);
    expect(await stock(bob)).toBe(2);
    // Mallory's sixth request is her last this window; the seventh is refused.
    expect(await claims(mallory, carol, 2)).toEqual([false, false]);
    const refused = await claim(mallory, carol).catch((error: unknown) => (error as CourierError).code);
    expect(refused).toBe('MLS_CLAIM_RATE_LIMITED');
    expect(await stock(carol)).toBe(3);

    // A last-resort package is a working key package: Bob can be added to a chat with it.
    const alice = await secureDevice(server, await server.register(nextPhone()));
    const b = await secureDevice(server, bob, { store: bob.store });
    const chat = await alice.client.openDirect(bob.accountId);
    await b.joined(chat.groupId);
    await alice.client.sendText(chat.groupId, 'hello via last resort');
    expect((await b.waitFor(chat.groupId, 1)).map((m) => m.text)).toEqual(['hello via last resort']);
    expect(await stock(bob)).toBe(2);
    await Promise.all([alice, b].map((d) => d.client.stop()));

    // A new window: one-time packages again.
    clock.advance(3_600_001);
    expect(await claim(mallory, bob)).toBe(false);
    expect(await stock(bob)).toBe(1);
  });
});

describe('the fan-out cache', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      config: { limits: { hubCacheBytes: 1024 * KiB, hubCacheTotalBytes: 2048 * KiB } },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('of all chats on a node together is bounded in bytes, and every reader still gets everything', async () => {
    const alice = await server.register(nextPhone());
    const bob = await server.register(nextPhone());
    const chats = [];
    for (let i = 0; i < 5; i++) chats.push(await alice.http.createGroup(`chat ${i}`, [bob.accountId]));
    const b = await connectDevice(server.url, bob);
    const a = await connectDevice(server.url, alice);
    let most = 0;
    for (let round = 0; round < 4; round++) {
      for (const [i, chat] of chats.entries()) {
        await a.connection.send(chat.groupId, new Uint8Array(250 * KiB).fill(i), `m-${i}-${round}`);
        most = Math.max(most, server.app.gateway.fanOutCacheBytes);
      }
    }
    // Five chats of four 250 KiB frames each fit each chat's own bound, not the node's.
    expect(most).toBeLessThanOrEqual(2048 * KiB);
    const got = await b.waitForMessages(20, 20_000);
    for (const [i, chat] of chats.entries()) {
      expect(got.filter((e) => e.groupId === chat.groupId).map((e) => e.clientMsgId)).toEqual(
        [0, 1, 2, 3].map((round) => `m-${i}-${round}`),
      );
    }
    await a.connection.stop();
    await b.connection.stop();
    // With nobody left to serve, the node holds nothing.
    while (server.app.gateway.connectionCount > 0) await new Promise((r) => setTimeout(r, 10));
    expect(server.app.gateway.fanOutCacheBytes).toBe(0);
  });
});

describe('a device mailbox', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { limits: { mailboxBytesPerDevice: 1024 * KiB } } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('holds a bounded number of bytes its device has not fetched; fetching makes room again', async () => {
    const alice = await server.register(nextPhone());
    const bob = await server.register(nextPhone());
    await alice.http.openDirect(bob.accountId);
    const a = await connectDevice(server.url, alice);
    const send = (id: string) =>
      a.connection
        .sendToDevice(bob.deviceId, new Uint8Array(300 * KiB), id)
        .then(() => 'accepted')
        .catch((error: unknown) => (error as CourierError).code);
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await send(`fill-${i}`));
    expect(outcomes).toEqual(['accepted', 'accepted', 'accepted', 'MSG_MAILBOX_FULL', 'MSG_MAILBOX_FULL']);
    // Bob's device fetches and acknowledges its items: room again.
    const items: MailboxItemFrame[] = [];
    const b = await connectDevice(server.url, bob, { onMailboxItem: (item) => void items.push(item) });
    while (items.length < 3) await new Promise((r) => setTimeout(r, 20));
    let outcome = await send('after');
    while (outcome === 'MSG_MAILBOX_FULL') {
      await new Promise((r) => setTimeout(r, 50));
      outcome = await send('after');
    }
    expect(outcome).toBe('accepted');
    await a.connection.stop();
    await b.connection.stop();
  });
});

describe.each<StorageKind>(['sqlite', 'postgres'])('concurrent key-package claims over %s', (storage) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      storage,
      config: { limits: { oneTimeClaimsPerDevice: 3, oneTimeClaimsPerClaimerPerDevice: 2 } },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('of overlapping devices in different orders neither fail nor hand out a package twice', async () => {
    const targets: TestUser[] = [];
    for (let i = 0; i < 3; i++) {
      const user = await server.register(nextPhone());
      const client = new SecureClient({
        url: server.url,
        token: user.token,
        accountId: user.accountId,
        deviceId: user.deviceId,
        store: new MemoryMlsStore(),
        keyPackageStock: 5,
      });
      await client.start();
      await client.stop();
      targets.push(user);
    }
    const claimers = await Promise.all([0, 1, 2, 3].map(() => server.register(nextPhone())));
    const replies = await Promise.all(
      claimers.flatMap((claimer, i) =>
        [0, 1].map(() =>
          claimer.http.call<ClaimKeyPackagesReply>('POST', '/v1/mls/key-packages/claim', {
            accountIds: (i % 2 === 0 ? targets : [...targets].reverse()).map((t) => t.accountId),
          }),
        ),
      ),
    );
    const handed = replies.flatMap((r) => r.keyPackages);
    expect(handed).toHaveLength(8 * 3);
    const oneTime = handed.filter((k) => !k.lastResort);
    // Three one-time packages of each device, each handed out once; the rest last-resort ones.
    expect(oneTime).toHaveLength(9);
    expect(new Set(oneTime.map((k) => k.keyPackage)).size).toBe(9);
    for (const target of targets) {
      const stock = await target.http.call<KeyPackageStockReply>('GET', '/v1/me/device/key-packages');
      expect(stock.oneTime).toBe(2);
    }
  });
});
