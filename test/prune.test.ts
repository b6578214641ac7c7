import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectDevice,
  nextPhone,
  startTestServer,
  type TestServer,
  text,
  unsafeTestingClock,
} from './support/harness.ts';

describe('log pruning', () => {
  const clock = new unsafeTestingClock(Date.UTC(2026, 2, 1));
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ clock, config: { delivery: { entryTtlMs: 24 * 3_600_000 } } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('keeps entries until every member device has them, and drops them after the TTL regardless', async () => {
    const alice = await server.register(nextPhone());
    const bob = await server.register(nextPhone());
    const chat = await alice.http.openDirect(bob.accountId);
    const a = await connectDevice(server.url, alice);
    const b = await connectDevice(server.url, bob);
    for (let i = 0; i < 3; i++) await a.connection.send(chat.groupId, text(`m${i}`));
    await b.waitForMessages(3);
    await b.connection.stop();
    await a.connection.stop();
    // Both devices said goodbye; their last acks are committed once the server saw them close.
    while (server.app.gateway.connectionCount > 0) await new Promise((r) => setTimeout(r, 10));
    await server.app.delivery.drain();
    const before = await server.app.storage.entries.range(chat.groupId, 0, 100);
    expect(before.length).toBe(4); // the roster entry and three messages

    // Bob acknowledged everything; Alice's device acknowledged the roster entry only (it never
    // receives its own messages), so the floor is the roster entry.
    expect((await server.app.retention.run()).entries).toBe(1);
    const left = await server.app.storage.entries.range(chat.groupId, 0, 100);
    expect(left.map((e) => e.seq)).toEqual([2, 3, 4]);

    // A device that never comes back does not pin the log forever.
    clock.advance(25 * 3_600_000);
    await server.app.retention.run();
    expect(await server.app.storage.entries.range(chat.groupId, 0, 100)).toEqual([]);
  });
});
