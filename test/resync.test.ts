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
          payload: text('unsignalled'),
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
