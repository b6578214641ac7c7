/**
 * Issue 16, admin key handover end to end: the owner names an admin and its client sends the
 * channel's secret key inside an MLS direct chat (content type `channel-key`); the admin's devices
 * and the owner's other devices import it after checking it against the server's channel info; the
 * admin's post is signed by the channel key and verified by a subscriber. A key from someone who is
 * not the owner, or a key that is not the channel's, is refused and kept nowhere; a removed admin's
 * posts are refused by the server. A key that arrives while the server cannot be asked to check it
 * is kept on the device and checked when the connection comes back.
 */
import { encodeBase64, generateChannelKey } from '@courier/protocol';
import {
  ChannelClient,
  type ChannelKeyOutcome,
  type ChannelPost,
  CourierHttp,
  MemoryChannelKeyring,
} from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer, type TestUser } from './support/harness.ts';
import { type SecureDevice, secureDevice } from './support/secure.ts';
import { until } from './support/until.ts';
import { DropProxy } from './support/drop-proxy.ts';
import { failure } from './support/failure.ts';

const text = (t: string) => ({ v: 1 as const, type: 'text' as const, text: t, sentAtMs: 1 });
const textOf = (post: ChannelPost) =>
  post.kind === 'verified' && post.content?.kind === 'known' && post.content.content.type === 'text'
    ? post.content.content.text
    : undefined;

/** A device's channel client that follows the keys its secure client decrypts, recording each outcome. */
function channelsOf(device: SecureDevice) {
  const keyring = new MemoryChannelKeyring();
  const client = new ChannelClient(device.user.http, keyring);
  const outcomes: ChannelKeyOutcome[] = [];
  const problems: string[] = [];
  client.followKeys(device.client);
  client.on('key_handover', (o) => outcomes.push(o));
  client.on('problem', (p) => problems.push(p.code));
  return { client, keyring, outcomes, problems };
}

describe('channel admin key handover', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let mallory: TestUser;
  const devices: SecureDevice[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    const phone = nextPhone();
    alice = await server.register(phone);
    bob = await server.register(nextPhone());
    carol = await server.register(nextPhone());
    mallory = await server.register(nextPhone());
    // Alice's second device, signed in before any chat, is in every direct chat of hers.
    const alice2 = await server.login(phone);
    for (const user of [alice, alice2, bob, mallory]) devices.push(await secureDevice(server, user));
  });

  afterAll(async () => {
    for (const device of devices) await device.client.stop();
    await server?.close();
  });

  it('the owner hands the key to an admin; the admin posts; a subscriber verifies the post', async () => {
    const [aliceDevice, alice2Device, bobDevice] = devices as [SecureDevice, SecureDevice, SecureDevice];
    const owner = channelsOf(aliceDevice);
    const ownerOther = channelsOf(alice2Device);
    const admin = channelsOf(bobDevice);
    const channel = await owner.client.create('handover_news', 'News', 'public');
    const reader = new ChannelClient(carol.http, new MemoryChannelKeyring());
    await reader.subscribe({ name: '@handover_news' });

    // Before the handover Bob's device cannot sign, whatever the server lets him do.
    expect(await failure(admin.client.post(channel.channelId, text('too early')))).toBe('CHANNEL_NOT_ADMIN');

    await owner.client.addAdmin(aliceDevice.client, channel.channelId, bob.accountId);
    await until(() => admin.outcomes.length > 0, "the key on Bob's device");
    expect(admin.outcomes[0]).toEqual({
      kind: 'imported',
      channelId: channel.channelId,
      name: 'handover_news',
      fromAccountId: alice.accountId,
    });
    expect(admin.keyring.pinned(channel.channelId)).toBe(channel.publicKey);
    // The owner's other device was in the chat too, and took it the same way.
    await until(() => ownerOther.outcomes.length > 0, "the key on Alice's other device");
    expect(ownerOther.outcomes[0]?.kind).toBe('imported');
    // Nothing of it shows as a message in the chat.
    expect(bobDevice.received.filter((m) => m.senderAccountId === alice.accountId)).toEqual([]);
    expect(admin.problems).toEqual([]);

    // Bob is subscribed as admin and posts; Carol's client checks the post against the pinned key.
    const asAdmin = await admin.client.show(channel.channelId);
    expect(asAdmin).toMatchObject({ myRole: 'admin', subscriberCount: 3, ownerAccountId: alice.accountId });
    // Who owns the channel is shown to its owner and admins only, never to subscribers.
    expect((await reader.show(channel.channelId)).ownerAccountId).toBeUndefined();
    await admin.client.post(channel.channelId, text('from the admin'));
    await ownerOther.client.post(channel.channelId, text("from the owner's other device"));
    const page = await reader.posts(channel.channelId, 0);
    expect(page.posts.map((p) => [p.kind, textOf(p)])).toEqual([
      ['verified', 'from the admin'],
      ['verified', "from the owner's other device"],
    ]);

    // Removed, Bob's device keeps the shared key but the server refuses his posts.
    await owner.client.removeAdmin(channel.channelId, bob.accountId);
    expect(await failure(admin.client.post(channel.channelId, text('after removal')))).toBe(
      'CHANNEL_NOT_ADMIN',
    );
    expect((await reader.posts(channel.channelId, 0)).posts).toHaveLength(2);
  });

  it('refuses a key from someone who is not the owner, and a key that is not the channel key', async () => {
    const [aliceDevice, , bobDevice, malloryDevice] = devices as [
      SecureDevice,
      SecureDevice,
      SecureDevice,
      SecureDevice,
    ];
    const owner = channelsOf(aliceDevice);
    const admin = channelsOf(bobDevice);
    const channel = await owner.client.create('handover_refuse', 'Refuse', 'private');
    await owner.client.setAdmin(channel.channelId, bob.accountId, true);

    // Mallory (no role at all) sends Bob a key pair of her own for Alice's channel.
    const forged = generateChannelKey();
    const content = (key: typeof forged, name = 'handover_refuse') => ({
      v: 1 as const,
      type: 'channel-key' as const,
      channelId: channel.channelId,
      name,
      publicKey: encodeBase64(key.publicKey),
      secretKey: encodeBase64(key.secretKey),
      sentAtMs: Date.now(),
    });
    const toBob = await malloryDevice.client.openDirect(bob.accountId);
    await malloryDevice.client.sendChannelKey(toBob.groupId, content(forged));
    await until(() => admin.outcomes.length === 1, 'the forged key checked');
    expect(admin.outcomes[0]).toMatchObject({ kind: 'refused', reason: 'not_owner' });

    // Alice herself sends a key that is not the channel's (a device bug, or a mix-up of channels).
    const direct = await aliceDevice.client.openDirect(bob.accountId);
    await aliceDevice.client.sendChannelKey(direct.groupId, content(generateChannelKey()));
    await until(() => admin.outcomes.length === 2, 'the wrong key checked');
    expect(admin.outcomes[1]).toMatchObject({ kind: 'refused', reason: 'key_mismatch' });
    expect(admin.keyring.secretKey(channel.channelId)).toBeUndefined();
    expect(await failure(admin.client.post(channel.channelId, text('no key')))).toBe('CHANNEL_NOT_ADMIN');

    // Only the owner hands keys over: an admin who holds it cannot pass it on.
    await owner.client.handOverKey(aliceDevice.client, channel.channelId, bob.accountId);
    await until(() => admin.outcomes.length === 3, 'the real key checked');
    expect(admin.outcomes[2]?.kind).toBe('imported');
    expect(
      await failure(admin.client.handOverKey(bobDevice.client, channel.channelId, mallory.accountId)),
    ).toBe('CHANNEL_NOT_OWNER');
    // Mallory, not an admin of a private channel she cannot see, is refused by the server on her side too.
    const malloryChannels = channelsOf(malloryDevice);
    const outcome = await malloryChannels.client.receiveKey({
      groupId: toBob.groupId,
      seq: 1,
      senderAccountId: alice.accountId,
      senderDeviceId: alice.deviceId,
      content: content(forged),
    });
    expect(outcome).toMatchObject({ kind: 'refused', reason: 'unknown_channel' });
  });

  it('keeps a key that arrives while the server cannot be asked, and checks it when the connection is back', async () => {
    const [aliceDevice] = devices as [SecureDevice];
    const dana = await server.register(nextPhone());
    const upstream = { host: '127.0.0.1', port: Number(new URL(server.url).port) };
    // Dana's device reaches the server through two real TCP paths: one for its socket (and MLS
    // calls), one for its channel checks; the second goes down while the key is delivered.
    const socketPath = new DropProxy(upstream);
    const checkPath = new DropProxy(upstream);
    await socketPath.start();
    await checkPath.start();
    try {
      const danaDevice = await secureDevice({ url: socketPath.url }, dana);
      devices.push(danaDevice);
      const keyring = new MemoryChannelKeyring();
      const client = new ChannelClient(new CourierHttp(checkPath.url, dana.token), keyring);
      const outcomes: ChannelKeyOutcome[] = [];
      const problems: string[] = [];
      client.followKeys(danaDevice.client);
      client.on('key_handover', (o) => outcomes.push(o));
      client.on('problem', (p) => problems.push(p.code));

      const owner = channelsOf(aliceDevice);
      const channel = await owner.client.create('handover_held', 'Held', 'private');
      const checkPort = checkPath.port;
      await checkPath.stop();
      await owner.client.addAdmin(aliceDevice.client, channel.channelId, dana.accountId);
      await until(() => problems.length > 0, 'the check that could not be made');
      expect(problems).toEqual(['SERVER_UNAVAILABLE']);
      expect(outcomes).toEqual([]);
      // Not lost: held on the device, not yet trusted.
      expect(keyring.heldHandovers()).toMatchObject([
        { senderAccountId: alice.accountId, content: { channelId: channel.channelId } },
      ]);
      expect(keyring.secretKey(channel.channelId)).toBeUndefined();

      // The server can be reached again and Dana's connection comes back: the held key is checked.
      await checkPath.start(checkPort);
      socketPath.cut();
      await until(() => outcomes.length > 0, 'the held key checked after the reconnect');
      expect(outcomes[0]).toEqual({
        kind: 'imported',
        channelId: channel.channelId,
        name: 'handover_held',
        fromAccountId: alice.accountId,
      });
      expect(keyring.heldHandovers()).toEqual([]);
      expect(problems).toEqual(['SERVER_UNAVAILABLE']);
      await client.post(channel.channelId, text('after the outage'));
      const reader = new ChannelClient(alice.http, new MemoryChannelKeyring());
      expect((await reader.posts(channel.channelId, 0)).posts.map(textOf)).toEqual(['after the outage']);
    } finally {
      await socketPath.stop();
      await checkPath.stop();
    }
  });

  it('checks a held key again at once when following starts (a key held by an earlier run)', async () => {
    const [aliceDevice, , bobDevice] = devices as [SecureDevice, SecureDevice, SecureDevice];
    const owner = channelsOf(aliceDevice);
    const channel = await owner.client.create('handover_later', 'Later', 'public');
    await owner.client.setAdmin(channel.channelId, bob.accountId, true);
    const secret = owner.client.exportSecretKey(channel.channelId)!;
    const keyring = new MemoryChannelKeyring();
    // What an earlier run of Bob's device kept when the server could not be asked.
    keyring.holdHandover({
      groupId: 'group_earlier',
      seq: 7,
      senderAccountId: alice.accountId,
      senderDeviceId: alice.deviceId,
      content: {
        v: 1,
        type: 'channel-key',
        channelId: channel.channelId,
        name: 'handover_later',
        publicKey: channel.publicKey,
        secretKey: encodeBase64(secret),
        sentAtMs: 1,
      },
    });
    const client = new ChannelClient(bob.http, keyring);
    const outcomes: ChannelKeyOutcome[] = [];
    client.on('key_handover', (o) => outcomes.push(o));
    client.followKeys(bobDevice.client);
    await until(() => outcomes.length > 0, 'the earlier key checked');
    expect(outcomes[0]).toMatchObject({ kind: 'imported', channelId: channel.channelId });
    expect(keyring.heldHandovers()).toEqual([]);
    expect(keyring.secretKey(channel.channelId)).toEqual(secret);
  });

  it("sends the key to the owner's own other devices, also one signed in after the first handover", async () => {
    const [aliceDevice, alice2Device] = devices as [SecureDevice, SecureDevice];
    const owner = channelsOf(aliceDevice);
    const other = channelsOf(alice2Device);
    const channel = await owner.client.create('handover_self', 'Self', 'public');
    const first = await owner.client.shareWithOwnDevices(aliceDevice.client, channel.channelId);
    await until(() => other.outcomes.length === 1, "the key on Alice's second device");
    expect(other.outcomes[0]).toMatchObject({ kind: 'imported', channelId: channel.channelId });

    // A third device signs in later: the next handover adds it to the chat first, then sends.
    const alice3 = await server.login(alice.phone, 'third');
    const alice3Device = await secureDevice(server, alice3);
    devices.push(alice3Device);
    const third = channelsOf(alice3Device);
    const again = await owner.client.shareWithOwnDevices(aliceDevice.client, channel.channelId);
    expect(again.groupId).toBe(first.groupId);
    await until(() => third.outcomes.length === 1, "the key on Alice's third device");
    expect(third.outcomes[0]).toMatchObject({ kind: 'imported', channelId: channel.channelId });
    await third.client.post(channel.channelId, text('from the third device'));
    const reader = new ChannelClient(carol.http, new MemoryChannelKeyring());
    expect((await reader.posts(channel.channelId, 0)).posts.map(textOf)).toEqual(['from the third device']);
  });
});
