import { randomUUID } from 'node:crypto';
import {
  createMlsClientContext,
  groupMemberAt,
  groupMembers,
  importGroupStateParts,
  type MlsGroup,
  processMessage,
} from '@courier/mls';
import { type CourierError, toBase64 } from '@courier/protocol';
import { CourierConnection, MemoryClientStore, MemoryMlsStore } from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dangerouslyForgePathlessCommit } from '../packages/mls/src/dangerously-forge-pathless-commit.ts';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { type SecureDevice, secureDevice } from './support/secure.ts';

/**
 * The properties end-to-end encryption must have against a real server: the RFC 9420 §12.4 path
 * rule on both sides, forward secrecy for removed members, post-compromise security after an
 * update, tampered and replayed ciphertext refused with a recorded code, concurrent commits that
 * never fork the group, catching up over many epochs, and new devices brought into existing chats.
 */
describe('MLS security properties through the delivery service', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  const device = async () => secureDevice(server, await server.register(nextPhone()));

  async function groupOf(d: SecureDevice, groupId: string): Promise<MlsGroup> {
    const record = await d.store.group(groupId);
    if (!record) throw new Error('no group state');
    return importGroupStateParts(record.state);
  }

  /** The stored ciphertext of the chat's newest entry, read from the server's database. */
  async function lastPayload(groupId: string): Promise<Uint8Array> {
    const rows = await server.app.storage.entries.range(groupId, 0, 10_000);
    return rows.at(-1)!.payload;
  }

  it('refuses a path-less single-Remove commit (server and SDK); a properly removed member cannot read on', async () => {
    const [a, b, c] = [await device(), await device(), await device()];
    const chat = await a.client.createGroup('path rule', [b.user.accountId, c.user.accountId]);
    await Promise.all([b.joined(chat.groupId), c.joined(chat.groupId)]);
    // c leaves the roster, so its leaf is due for removal; a forges the removal without an UpdatePath.
    await server.app.storage.transaction(async (tx) =>
      tx.groups.deleteMember(chat.groupId, c.user.accountId),
    );
    const group = await groupOf(a, chat.groupId);
    const cLeaf = groupMembers(group).find((m) => m.accountId === c.user.accountId)!.leafIndex;
    const context = await createMlsClientContext();
    const forged = await dangerouslyForgePathlessCommit(context.library, group.state, [
      { proposalType: 3, remove: { removed: cLeaf } },
    ]);
    const refused = await a.user.http
      .call('POST', `/v1/groups/${chat.groupId}/mls/commits`, {
        clientMsgId: 'forged-1',
        commit: toBase64(forged),
      })
      .catch((error: unknown) => error);
    expect((refused as CourierError).code).toBe('MLS_MISSING_UPDATE_PATH');
    const atB = await processMessage(context, await groupOf(b, chat.groupId), forged);
    expect(atB.kind === 'failed' && atB.code).toBe('MLS_MISSING_UPDATE_PATH');

    // The real removal carries a path: c's state from before cannot read what follows.
    const cBefore = await groupOf(c, chat.groupId);
    await a.client.reconcile(chat.groupId);
    await a.client.sendText(chat.groupId, 'after c left');
    await b.waitFor(chat.groupId, 1);
    const commit = (await server.app.storage.entries.range(chat.groupId, 0, 10_000))
      .filter((e) => e.kind === 'commit')
      .at(-1)!;
    const removed = await processMessage(context, cBefore, commit.payload);
    expect(removed.kind).toBe('removed');
    for (const state of [cBefore, removed.group]) {
      const read = await processMessage(context, state, await lastPayload(chat.groupId));
      expect(read.kind).toBe('failed');
    }
    await Promise.all([a, b, c].map((d) => d.client.stop()));
  });

  it('after an update, a copy of the old state cannot read new messages (post-compromise security)', async () => {
    const [a, b] = [await device(), await device()];
    const chat = await a.client.openDirect(b.user.accountId);
    await b.joined(chat.groupId);
    const stolen = await groupOf(b, chat.groupId);
    await b.client.updateKeys(chat.groupId);
    await a.atEpoch(chat.groupId, (await b.client.epoch(chat.groupId))!);
    await a.client.sendText(chat.groupId, 'after the update');
    expect((await b.waitFor(chat.groupId, 1)).map((m) => m.text)).toEqual(['after the update']);
    const context = await createMlsClientContext();
    const attempt = await processMessage(context, stolen, await lastPayload(chat.groupId));
    expect(attempt.kind).toBe('failed');
    await Promise.all([a.client.stop(), b.client.stop()]);
  });

  it('records tampered and replayed ciphertext as undecryptable and reads on', async () => {
    const [a, b] = [await device(), await device()];
    const chat = await a.client.openDirect(b.user.accountId);
    await b.joined(chat.groupId);
    await a.client.sendText(chat.groupId, 'genuine');
    await b.waitFor(chat.groupId, 1);
    const genuine = await lastPayload(chat.groupId);
    const tampered = new Uint8Array(genuine);
    tampered[tampered.length - 5]! ^= 0x40;
    // A second connection of a's device (send-only) injects the bad copies under new client ids.
    const raw = new CourierConnection({
      url: server.url,
      token: a.user.token,
      store: new MemoryClientStore(),
      sendOnly: true,
    });
    raw.start();
    await raw.ready();
    await raw.send(chat.groupId, tampered);
    await raw.send(chat.groupId, genuine);
    await raw.stop();
    await a.client.sendText(chat.groupId, 'still fine');
    expect((await b.waitFor(chat.groupId, 2)).map((m) => m.text)).toEqual(['genuine', 'still fine']);
    expect(b.undecryptable.map((u) => u.code)).toEqual(['MLS_DECRYPT_FAILED', 'MLS_DECRYPT_FAILED']);
    await Promise.all([a.client.stop(), b.client.stop()]);
  });

  it('concurrent commits: one wins the epoch, the other catches up and retries; the group never forks', async () => {
    const [a, b] = [await device(), await device()];
    const chat = await a.client.openDirect(b.user.accountId);
    await b.joined(chat.groupId);
    await Promise.all([a.client.updateKeys(chat.groupId), b.client.updateKeys(chat.groupId)]);
    const epoch = Math.max((await a.client.epoch(chat.groupId))!, (await b.client.epoch(chat.groupId))!);
    await Promise.all([a.atEpoch(chat.groupId, epoch), b.atEpoch(chat.groupId, epoch)]);
    expect(epoch).toBe(3); // the add, then both updates one after the other
    await a.client.sendText(chat.groupId, 'one group');
    await b.client.sendText(chat.groupId, 'still one');
    expect((await b.waitFor(chat.groupId, 1)).map((m) => m.text)).toEqual(['one group']);
    expect((await a.waitFor(chat.groupId, 1)).map((m) => m.text)).toEqual(['still one']);
    expect(a.undecryptable).toEqual([]);
    expect(b.undecryptable).toEqual([]);
    await Promise.all([a.client.stop(), b.client.stop()]);
  });

  it('a member offline for many epochs catches up, and a message sent before a commit is read after it', async () => {
    const [a, b, c] = [await device(), await device(), await device()];
    const chat = await a.client.createGroup('catch up', [b.user.accountId, c.user.accountId]);
    await Promise.all([b.joined(chat.groupId), c.joined(chat.groupId)]);
    await c.client.stop();
    for (let i = 0; i < 6; i++) {
      await a.client.updateKeys(chat.groupId);
      await a.client.sendText(chat.groupId, `epoch message ${i}`);
    }
    // b encrypts at the current epoch while offline; a commits meanwhile; b's message lands after it.
    await b.client.stop();
    // Stopped: the encrypted message waits in b's outbox (its promise settles only with a connection).
    void b.client.sendText(chat.groupId, 'written before the commit').catch(() => undefined);
    while (b.store.outbox().length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await a.client.updateKeys(chat.groupId);
    const bAgain = await secureDevice(server, b.user, { store: b.store });
    const cAgain = await secureDevice(server, c.user, { store: c.store });
    const texts = (await cAgain.waitFor(chat.groupId, 7)).map((m) => m.text);
    expect(texts).toEqual([
      ...Array.from({ length: 6 }, (_, i) => `epoch message ${i}`),
      'written before the commit',
    ]);
    expect((await a.waitFor(chat.groupId, 1)).map((m) => m.text)).toEqual(['written before the commit']);
    expect(cAgain.undecryptable).toEqual([]);
    await Promise.all([a, bAgain, cAgain].map((d) => d.client.stop()));
  });

  it("a new device of a member joins the member's chats, and an added key is reported to others", async () => {
    const [a, b] = [await device(), await device()];
    const chat = await a.client.createGroup('devices', [b.user.accountId]);
    await b.joined(chat.groupId);
    const changes: string[] = [];
    a.client.on('key_change', (change) => changes.push(`${change.accountId}:${change.deviceId}`));
    const laptop = await secureDevice(server, await server.login(b.user.phone, 'laptop'), {
      store: new MemoryMlsStore(),
    });
    await laptop.joined(chat.groupId);
    await a.client.sendText(chat.groupId, 'to both of b’s devices');
    expect((await laptop.waitFor(chat.groupId, 1)).map((m) => m.text)).toEqual(['to both of b’s devices']);
    expect((await b.waitFor(chat.groupId, 1)).map((m) => m.text)).toEqual(['to both of b’s devices']);
    expect(changes).toContain(`${b.user.accountId}:${laptop.user.deviceId}`);
    const members = await a.client.members(chat.groupId);
    expect(members.filter((m) => m.accountId === b.user.accountId)).toHaveLength(2);
    expect(groupMemberAt(await groupOf(a, chat.groupId), 0)?.accountId).toBe(a.user.accountId);
    await Promise.all([a, b, laptop].map((d) => d.client.stop()));
  });

  it('the delivery service refuses commits for a past epoch, from non-members, and adds the roster does not call for', async () => {
    const [a, b, stranger] = [await device(), await device(), await device()];
    const chat = await a.client.openDirect(b.user.accountId);
    await b.joined(chat.groupId);
    const before = await groupOf(b, chat.groupId);
    await a.client.updateKeys(chat.groupId);
    await b.atEpoch(chat.groupId, Number(before.epoch) + 1);
    // b replays a commit built on the old epoch.
    const { selfUpdate } = await import('@courier/mls');
    const context = await createMlsClientContext();
    const stale = await selfUpdate(context, before);
    const post = (who: SecureDevice, body: object) =>
      who.user.http
        .call('POST', `/v1/groups/${chat.groupId}/mls/commits`, { clientMsgId: randomUUID(), ...body })
        .catch((error: unknown) => (error as CourierError).code);
    expect(await post(b, { commit: toBase64(stale.commit) })).toBe('MSG_STALE_EPOCH');
    expect(await post(stranger, { commit: toBase64(stale.commit) })).toBe('GROUP_NOT_FOUND');
    expect(await post(b, { commit: toBase64(new Uint8Array([1, 2, 3])) })).toBe('MLS_MALFORMED');
    await Promise.all([a, b, stranger].map((d) => d.client.stop()));
  });
});
