import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';

describe('roster rules', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('protects the owner and lets only the owner demote or remove admins', async () => {
    const [owner, a1, a2, m] = await Promise.all([1, 2, 3, 4].map(() => server.register(nextPhone())));
    const g = await owner!.http.createGroup('Rules', [a1!.accountId, a2!.accountId, m!.accountId]);
    await owner!.http.setRole(g.groupId, a1!.accountId, 'admin');
    await a1!.http.setRole(g.groupId, a2!.accountId, 'admin');
    await expect(a1!.http.setRole(g.groupId, a2!.accountId, 'member')).rejects.toMatchObject({
      code: 'GROUP_NOT_OWNER',
    });
    await expect(a1!.http.removeMember(g.groupId, a2!.accountId)).rejects.toMatchObject({
      code: 'GROUP_NOT_OWNER',
    });
    await expect(a1!.http.removeMember(g.groupId, owner!.accountId)).rejects.toMatchObject({
      code: 'GROUP_NOT_OWNER',
    });
    await expect(m!.http.removeMember(g.groupId, a1!.accountId)).rejects.toMatchObject({
      code: 'GROUP_NOT_ADMIN',
    });
    await owner!.http.setRole(g.groupId, a2!.accountId, 'member');
    await a1!.http.removeMember(g.groupId, a2!.accountId);
    const roles = (await owner!.http.group(g.groupId)).members.map((x) => [x.accountId, x.role]);
    expect(roles).toEqual([
      [owner!.accountId, 'owner'],
      [a1!.accountId, 'admin'],
      [m!.accountId, 'member'],
    ]);
  });

  it('hands the group to an admin when the owner leaves, keeps direct chats to two, and lets either leave one', async () => {
    const [owner, a, m] = await Promise.all([1, 2, 3].map(() => server.register(nextPhone())));
    const g = await owner!.http.createGroup('Heirs', [m!.accountId, a!.accountId]);
    await owner!.http.setRole(g.groupId, a!.accountId, 'admin');
    await owner!.http.leave(g.groupId);
    const after = await a!.http.group(g.groupId);
    expect(after.members.find((x) => x.accountId === a!.accountId)?.role).toBe('owner');
    expect(after.memberCount).toBe(2);

    const direct = await owner!.http.openDirect(m!.accountId);
    await expect(owner!.http.addMembers(direct.groupId, [a!.accountId])).rejects.toMatchObject({
      code: 'GROUP_DIRECT_IMMUTABLE',
    });
    await expect(owner!.http.removeMember(direct.groupId, m!.accountId)).rejects.toMatchObject({
      code: 'GROUP_DIRECT_IMMUTABLE',
    });
    // Either person may leave a direct chat (issue 12): the other sees it in the log and stays alone.
    await m!.http.acceptRequest(direct.groupId);
    await owner!.http.leave(direct.groupId);
    await expect(owner!.http.group(direct.groupId)).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });
    const left = await m!.http.group(direct.groupId);
    expect(left.members.map((x) => x.accountId)).toEqual([m!.accountId]);
    // The next open makes a new chat.
    expect((await owner!.http.openDirect(m!.accountId)).groupId).not.toBe(direct.groupId);
    await expect(owner!.http.openDirect(owner!.accountId)).rejects.toMatchObject({
      code: 'GROUP_SELF_DIRECT',
    });
  });

  it('finds people by username (case-insensitively) and phone, and keeps usernames unique', async () => {
    const [x, y] = await Promise.all([1, 2].map(() => server.register(nextPhone())));
    await x!.http.setUsername('Night_Owl');
    expect((await x!.http.me()).username).toBe('night_owl');
    await expect(y!.http.setUsername('NIGHT_OWL')).rejects.toMatchObject({ code: 'ACCOUNT_USERNAME_TAKEN' });
    await expect(y!.http.setUsername('no')).rejects.toMatchObject({ code: 'ACCOUNT_USERNAME_INVALID' });
    expect((await y!.http.lookup({ username: '@NIGHT_owl' })).accountId).toBe(x!.accountId);
    expect((await y!.http.lookup({ phone: x!.phone })).accountId).toBe(x!.accountId);
    await expect(y!.http.lookup({ username: 'nobody_here' })).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_FOUND',
    });
    await x!.http.setUsername(null);
    await y!.http.setUsername('night_owl');
    expect((await x!.http.lookup({ username: 'night_owl' })).accountId).toBe(y!.accountId);
  });

  it('signs out a revoked device: its token stops working', async () => {
    const phone = nextPhone();
    const first = await server.register(phone);
    const second = await server.login(phone, 'tablet');
    await first.http.revokeDevice(second.deviceId);
    await expect(second.http.me()).rejects.toMatchObject({ code: 'AUTH_INVALID_TOKEN' });
    expect((await first.http.devices()).map((d) => d.deviceId)).toEqual([first.deviceId]);
    await expect(first.http.revokeDevice('d_nonexistentdevice0000')).rejects.toMatchObject({
      code: 'DEVICE_NOT_FOUND',
    });
  });
});
