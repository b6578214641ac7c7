import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredMessage } from '@courier/sdk';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceStore } from './device-store.ts';

const dirs: string[] = [];
function fresh(): string {
  const dir = mkdtempSync(join(tmpdir(), 'courier-device-store-'));
  dirs.push(dir);
  return join(dir, 'devices', 'd.db');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const message = (n: number, overrides: Partial<StoredMessage> = {}): StoredMessage => ({
  groupId: 'g1',
  seq: n,
  clientMsgId: `m${n}`,
  senderAccountId: 'u_a',
  senderDeviceId: 'd_a',
  sentAtMs: n,
  text: `text ${n}`,
  outgoing: false,
  ...overrides,
});

describe('the CLI device store (SQLite)', () => {
  it('is private to the user and keeps identity, key packages and positions across opens', async () => {
    const path = fresh();
    const store = new DeviceStore(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await store.saveIdentity({
      accountId: 'u_a',
      deviceId: 'd_a',
      signaturePublicKey: Uint8Array.of(1),
      signaturePrivateKey: Uint8Array.of(2),
      certificationKey: Uint8Array.of(3),
    });
    await store.addKeyPackages([
      {
        ref: Uint8Array.of(9),
        keyPackage: Uint8Array.of(8),
        privateKeyPackage: Uint8Array.of(7),
        lastResort: true,
      },
    ]);
    store.setLastSeq('g1', 5);
    store.setLastSeq('g1', 3);
    store.setLastMailboxSeq(4);
    store.putOutbox({ kind: 'group', target: 'g1', clientMsgId: 'c1', payload: Uint8Array.of(1, 2) });
    store.close();
    const again = new DeviceStore(path);
    expect((await again.identity())?.signaturePrivateKey).toEqual(Uint8Array.of(2));
    expect((await again.keyPackages())[0]).toMatchObject({ lastResort: true, ref: Uint8Array.of(9) });
    expect([again.lastSeq('g1'), again.lastMailboxSeq()]).toEqual([5, 4]);
    expect(again.outbox()).toEqual([
      { kind: 'group', target: 'g1', clientMsgId: 'c1', payload: Uint8Array.of(1, 2) },
    ]);
    again.close();
  });

  it('saves a group only over the version it read: two processes never both move a chat on', async () => {
    const path = fresh();
    const [one, two] = [new DeviceStore(path), new DeviceStore(path)];
    expect(await one.saveGroup('g1', { state: Uint8Array.of(1), seq: 1 }, undefined)).toBe(true);
    const read = (await two.group('g1'))!;
    expect(
      await one.saveGroup('g1', { state: Uint8Array.of(2), seq: 2 }, read.version, {
        messages: [message(2)],
      }),
    ).toBe(true);
    // two's save, made from what it read before, fails and leaves nothing of itself behind.
    expect(
      await two.saveGroup('g1', { state: Uint8Array.of(3), seq: 2 }, read.version, {
        messages: [message(9)],
      }),
    ).toBe(false);
    expect((await two.group('g1'))?.state).toEqual(Uint8Array.of(2));
    expect((await two.messages('g1')).map((m) => m.seq)).toEqual([2]);
    one.close();
    two.close();
  });

  it('shows each received message once, in order, and keeps each message once', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 40 }), (seqs) => {
        const store = new DeviceStore(fresh());
        void store.addMessages(seqs.map((n) => message(n)));
        void store.addMessages([message(100, { outgoing: true })]);
        const unique = [...new Set(seqs)];
        expect(store.takeUnshown().map((m) => m.seq)).toEqual(unique);
        expect(store.takeUnshown()).toEqual([]);
        store.close();
      }),
      { numRuns: 25 },
    );
  });
});
