import { createKeyPackage, createMlsClientContext, generateDeviceIdentity } from '@courier/mls';
import { toBase64 } from '@courier/protocol';
import { MemoryMlsStore, SecureClient } from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer, type TestUser } from './support/harness.ts';

/**
 * Two commit-making operations on one chat at once on one client: the creation of a group and the
 * sync that runs after a reconnect did this, and the one that lost the epoch burned the key packages
 * it had claimed, so that offline members were never added (a group of 39 devices came out with 2).
 */
describe('reconciling one chat twice at once', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  /** A device that published its credential and exactly one key package, then went offline. */
  async function offlineMember(user: TestUser): Promise<void> {
    const context = await createMlsClientContext();
    const identity = await generateDeviceIdentity(user.accountId, user.deviceId);
    await user.http.call('PUT', '/v1/me/device/credential', {
      signaturePublicKey: toBase64(identity.signaturePublicKey),
    });
    const kp = await createKeyPackage(context, identity);
    await user.http.call('POST', '/v1/me/device/key-packages', { keyPackages: [toBase64(kp.keyPackage)] });
  }

  it('adds every member once, whichever commit wins the epoch', async () => {
    const owner = await server.register(nextPhone());
    const online = await server.register(nextPhone());
    const offline: TestUser[] = [];
    for (let i = 0; i < 12; i++) offline.push(await server.register(nextPhone()));
    for (const user of offline) await offlineMember(user);
    const client = (user: TestUser) =>
      new SecureClient({
        url: server.url,
        token: user.token,
        accountId: user.accountId,
        deviceId: user.deviceId,
        store: new MemoryMlsStore(),
        keyPackageStock: 3,
        maxAddsPerCommit: 5,
        reconnectBaseMs: 50,
        reconnectCapMs: 1000,
      });
    const ownerClient = client(owner);
    const onlineClient = client(online);
    await Promise.all([ownerClient.start(), onlineClient.start()]);
    try {
      const group = await ownerClient.createGroup('race', []);
      await ownerClient.http.addMembers(
        group.groupId,
        [online, ...offline].map((u) => u.accountId),
      );
      // The roster now names 13 devices the tree lacks; the online member has spare key packages,
      // the offline ones one each: the second claim gets only the online member's spare. Two reconciles at once (as creation and a reconnect's sync do).
      await Promise.all([
        ownerClient.reconcile(group.groupId),
        ownerClient.reconcile(group.groupId),
        ownerClient.syncGroups(),
      ]);
      const members = await ownerClient.members(group.groupId);
      expect(new Set(members.map((m) => m.accountId))).toEqual(
        new Set([owner, online, ...offline].map((u) => u.accountId)),
      );
      expect(members).toHaveLength(14);
    } finally {
      await Promise.all([ownerClient.stop(), onlineClient.stop()]);
    }
  });

  it('reuses the key packages a commit that lost the epoch had claimed (two admins at once)', async () => {
    const owner = await server.register(nextPhone());
    const admin = await server.register(nextPhone());
    const online = await server.register(nextPhone());
    const offline: TestUser[] = [];
    for (let i = 0; i < 12; i++) offline.push(await server.register(nextPhone()));
    for (const user of offline) await offlineMember(user);
    const client = (user: TestUser) =>
      new SecureClient({
        url: server.url,
        token: user.token,
        accountId: user.accountId,
        deviceId: user.deviceId,
        store: new MemoryMlsStore(),
        keyPackageStock: 3,
        maxAddsPerCommit: 5,
        reconnectBaseMs: 50,
        reconnectCapMs: 1000,
      });
    const [ownerClient, adminClient, onlineClient] = [client(owner), client(admin), client(online)];
    await Promise.all([ownerClient.start(), adminClient.start(), onlineClient.start()]);
    try {
      const group = await ownerClient.createGroup('race', [admin.accountId]);
      await ownerClient.http.setRole(group.groupId, admin.accountId, 'admin');
      await until(async () => (await adminClient.epoch(group.groupId)) !== undefined);
      await ownerClient.http.addMembers(
        group.groupId,
        [online, ...offline].map((u) => u.accountId),
      );
      // Both admins add at once: whichever loses the epoch claimed packages the winner did not use.
      await Promise.all([ownerClient.reconcile(group.groupId), adminClient.reconcile(group.groupId)]);
      await ownerClient.reconcile(group.groupId);
      const members = await ownerClient.members(group.groupId);
      expect(new Set(members.map((m) => m.accountId))).toEqual(
        new Set([owner, admin, online, ...offline].map((u) => u.accountId)),
      );
    } finally {
      await Promise.all([ownerClient.stop(), adminClient.stop(), onlineClient.stop()]);
    }
  });
});

async function until(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
