import { opaqueApplicationMessage } from '@courier/mls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectDevice,
  nextPhone,
  startTestServer,
  type TestServer,
  text,
  untext,
} from './support/harness.ts';

describe('a lost bus signal', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('delays delivery only until the next resync', async () => {
    const alice = await server.register(nextPhone());
    const bob = await server.register(nextPhone());
    const chat = await alice.http.openDirect(bob.accountId);
    const b = await connectDevice(server.url, bob);
    // Another node commits an entry, and its "new entries" signal never arrives.
    await server.app.storage.transaction(async (tx) => {
      const seq = await tx.groups.allocateSeq(chat.groupId, 1);
      await tx.entries.insert([
        {
          groupId: chat.groupId,
          seq,
          kind: 'message',
          senderAccountId: alice.accountId,
          senderDeviceId: alice.deviceId,
          clientMsgId: 'from-elsewhere',
          payload: opaqueApplicationMessage(chat.groupId, text('unsignalled')),
          createdAt: Date.now(),
        },
      ]);
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(b.messages()).toHaveLength(0);
    await server.app.gateway.resync();
    expect((await b.waitForMessages(1)).map((e) => untext(e.payload))).toEqual(['unsignalled']);
    await b.connection.stop();
  });
});

describe('two connections of one device', () => {
  it('the newer one takes over and the older one stops for good instead of pushing it off in turn', async () => {
    const server = await startTestServer();
    try {
      const alice = await server.register(nextPhone());
      const bob = await server.register(nextPhone());
      const chat = await alice.http.openDirect(bob.accountId);
      const older = await connectDevice(server.url, bob);
      const replaced = new Promise<string>((resolve) => older.connection.on('fatal', (e) => resolve(e.code)));
      const newer = await connectDevice(server.url, bob);
      expect(await replaced).toBe('AUTH_CONNECTION_REPLACED');
      expect(older.connection.state).toBe('stopped');
      const a = await connectDevice(server.url, alice);
      await a.connection.send(chat.groupId, text('to the newer one'));
      expect((await newer.waitForMessages(1)).map((e) => untext(e.payload))).toEqual(['to the newer one']);
      await new Promise((r) => setTimeout(r, 300));
      expect(server.app.gateway.connectionCount).toBe(2);
      await a.connection.stop();
      await newer.connection.stop();
    } finally {
      await server.close();
    }
  });

  it('a send-only connection works beside the receiving one without taking over, and is sent nothing', async () => {
    const server = await startTestServer();
    try {
      const alice = await server.register(nextPhone());
      const bob = await server.register(nextPhone());
      const chat = await alice.http.openDirect(bob.accountId);
      const listening = await connectDevice(server.url, alice);
      let replaced = false;
      listening.connection.on('fatal', () => {
        replaced = true;
      });
      const sender = await connectDevice(server.url, alice, { sendOnly: true });
      const b = await connectDevice(server.url, bob);
      await sender.connection.send(chat.groupId, text('from the send-only one'));
      await b.connection.send(chat.groupId, text('reply'));
      expect((await listening.waitForMessages(1)).map((e) => untext(e.payload))).toEqual(['reply']);
      await new Promise((r) => setTimeout(r, 300));
      expect(replaced).toBe(false);
      expect(sender.entries).toEqual([]);
      expect((await b.waitForMessages(1)).map((e) => untext(e.payload))).toEqual(['from the send-only one']);
      for (const d of [listening, sender, b]) await d.connection.stop();
    } finally {
      await server.close();
    }
  });
});
