import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { secureDevice } from './support/secure.ts';

/**
 * End-to-end encryption through a real in-process server: every chat is an MLS group, the server
 * checks handshakes as the delivery service and routes Welcomes, and the devices read each other.
 */
describe('end-to-end encrypted chats (MLS)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('a direct chat: the opener creates the group, the other joins from a Welcome, both read each other', async () => {
    const alice = await secureDevice(server, await server.register(nextPhone()));
    const bob = await secureDevice(server, await server.register(nextPhone()));
    const chat = await alice.client.openDirect(bob.user.accountId);
    await bob.joined(chat.groupId);
    await alice.client.sendText(chat.groupId, 'hello bob');
    await bob.client.sendText(chat.groupId, 'hello alice');
    expect((await bob.waitFor(chat.groupId, 1)).map((m) => m.text)).toEqual(['hello bob']);
    expect((await alice.waitFor(chat.groupId, 1)).map((m) => m.text)).toEqual(['hello alice']);
    expect(await alice.client.safetyNumber(bob.user.accountId)).toBe(
      await bob.client.safetyNumber(alice.user.accountId),
    );
    // Opening the chat again from the other side finds the same group, already encrypted.
    expect((await bob.client.openDirect(alice.user.accountId)).groupId).toBe(chat.groupId);
    await Promise.all([alice.client.stop(), bob.client.stop()]);
    expect([...alice.problems, ...bob.problems]).toEqual([]);
  });

  it('a group: members added and removed by commits; a removed member cannot read what follows', async () => {
    const [a, b, c] = await Promise.all(
      [0, 1, 2].map(async () => secureDevice(server, await server.register(nextPhone()))),
    );
    const group = await a!.client.createGroup('three', [b!.user.accountId, c!.user.accountId]);
    await Promise.all([b!.joined(group.groupId), c!.joined(group.groupId)]);
    await a!.client.sendText(group.groupId, 'to all three');
    await b!.waitFor(group.groupId, 1);
    await c!.waitFor(group.groupId, 1);

    await a!.client.removeMember(group.groupId, c!.user.accountId);
    const epoch = (await a!.client.epoch(group.groupId))!;
    await b!.atEpoch(group.groupId, epoch);
    await a!.client.sendText(group.groupId, 'without c');
    expect((await b!.waitFor(group.groupId, 2)).map((m) => m.text)).toEqual(['to all three', 'without c']);
    // c's connection no longer gets the chat; its state from before cannot read the new epoch either.
    expect(c!.received.map((m) => m.text)).toEqual(['to all three']);
    expect((await a!.client.members(group.groupId)).map((m) => m.accountId).sort()).toEqual(
      [a!.user.accountId, b!.user.accountId].sort(),
    );
    await Promise.all([a!, b!, c!].map((d) => d.client.stop()));
  });

  it("deleting an account takes its devices out of every chat's MLS group, by the remaining members' commits", async () => {
    const [a, b, c] = await Promise.all(
      [0, 1, 2].map(async () => secureDevice(server, await server.register(nextPhone()))),
    );
    const group = await a!.client.createGroup('erasure', [b!.user.accountId, c!.user.accountId]);
    const direct = await c!.client.openDirect(b!.user.accountId);
    await Promise.all([b!.joined(group.groupId), c!.joined(group.groupId), b!.joined(direct.groupId)]);
    const before = {
      group: (await a!.client.epoch(group.groupId))!,
      direct: (await b!.client.epoch(direct.groupId))!,
    };
    await c!.client.stop();
    await c!.user.http.deleteAccount(c!.user.phone);
    // The group's admin and the direct chat's other person each commit the removal.
    await a!.atEpoch(group.groupId, before.group + 1);
    await b!.atEpoch(direct.groupId, before.direct + 1);
    for (const [d, id] of [
      [a!, group.groupId],
      [b!, direct.groupId],
    ] as const) {
      expect((await d.client.members(id)).map((m) => m.accountId)).not.toContain(c!.user.accountId);
    }
    const view = await a!.user.http.call<{ leaves: { accountId: string }[]; stale: number[] }>(
      'GET',
      `/v1/groups/${group.groupId}/mls`,
    );
    expect(view.stale).toEqual([]);
    expect(view.leaves.map((l) => l.accountId)).not.toContain(c!.user.accountId);
    await Promise.all([a!, b!].map((d) => d.client.stop()));
  });
});
