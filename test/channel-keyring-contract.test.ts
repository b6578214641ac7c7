/**
 * Issue 16, handed-over channel keys held until the server can check them: every channel keyring
 * (the SDK's memory one, the CLI profile's file, the web worker's IndexedDB) keeps exactly the
 * handovers held and not dropped, across a reopen where the keyring is durable (property), and the
 * web store opened over a version-1 database keeps its channels and gains the handovers store.
 */
import 'fake-indexeddb/auto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ChannelKeyring,
  type HeldChannelKeyHandover,
  handoverKey,
  MemoryChannelKeyring,
} from '@courier/sdk';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ChannelKeyringFile } from '../packages/cli/src/channel-keyring-file.ts';
import { ChannelStore } from '../packages/web/src/worker/channel-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'courier-keyring-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let made = 0;

interface Kind {
  name: string;
  /** A new, empty keyring, and how to open it again (the same one, for one that is not durable). */
  make(): Promise<{ keyring: ChannelKeyring; reopen(): Promise<ChannelKeyring> }>;
}

const kinds: Kind[] = [
  {
    name: 'memory (SDK)',
    make: async () => {
      const keyring = new MemoryChannelKeyring();
      return { keyring, reopen: async () => keyring };
    },
  },
  {
    name: 'profile file (CLI)',
    make: async () => {
      const path = join(dir, `channels-${++made}.json`);
      return { keyring: new ChannelKeyringFile(path), reopen: async () => new ChannelKeyringFile(path) };
    },
  },
  {
    name: 'IndexedDB (web worker)',
    make: async () => {
      const name = `keyring-${++made}`;
      const keyring = await ChannelStore.open(name);
      return {
        keyring,
        reopen: async () => {
          await keyring.flushed();
          keyring.close();
          return ChannelStore.open(name);
        },
      };
    },
  },
];

const handover = (groupId: string, seq: number, secret: string): HeldChannelKeyHandover => ({
  groupId,
  seq,
  senderAccountId: 'acc_owner',
  senderDeviceId: 'dev_owner',
  content: {
    v: 1,
    type: 'channel-key',
    channelId: `chn_${groupId}`,
    name: 'some_channel',
    publicKey: 'PUBLIC',
    secretKey: secret,
    sentAtMs: seq,
  },
});

const op = fc.oneof(
  fc.record({
    kind: fc.constant('hold' as const),
    group: fc.constantFrom('g1', 'g2'),
    seq: fc.integer({ min: 1, max: 4 }),
    secret: fc.string({ maxLength: 6 }),
  }),
  fc.record({
    kind: fc.constant('drop' as const),
    group: fc.constantFrom('g1', 'g2'),
    seq: fc.integer({ min: 1, max: 4 }),
  }),
);

const sorted = (list: HeldChannelKeyHandover[]) =>
  [...list].sort((a, b) => handoverKey(a).localeCompare(handoverKey(b)));

describe.each(kinds)('held channel key handovers in the $name keyring', (kind) => {
  it('keeps what was held and not dropped, the newest at each chat position, across a reopen', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops) => {
        const { keyring, reopen } = await kind.make();
        const model = new Map<string, HeldChannelKeyHandover>();
        for (const o of ops) {
          if (o.kind === 'hold') {
            const h = handover(o.group, o.seq, o.secret);
            keyring.holdHandover(h);
            model.set(handoverKey(h), h);
          } else {
            keyring.dropHandover(o.group, o.seq);
            model.delete(handoverKey({ groupId: o.group, seq: o.seq }));
          }
        }
        const expected = sorted([...model.values()]);
        expect(sorted(keyring.heldHandovers())).toEqual(expected);
        const again = await reopen();
        expect(sorted(again.heldHandovers())).toEqual(expected);
        if (again instanceof ChannelStore) again.close();
      }),
      { numRuns: 25 },
    );
  });
});

describe('the web worker channel store over a version-1 database', () => {
  it('keeps its channels and gains the handovers store', async () => {
    const name = `keyring-v1-${++made}`;
    const open = indexedDB.open(`courier-channels-${name}`, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore('meta');
      const posts = open.result.createObjectStore('posts', { keyPath: ['channelId', 'postId'] });
      posts.createIndex('byOrder', ['channelId', 'order', 'seq']);
    };
    const v1 = await new Promise<IDBDatabase>((resolve, reject) => {
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = v1.transaction('meta', 'readwrite');
      tx.objectStore('meta').put({ pinned: 'KEY', cursor: 5 }, 'chn_old');
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    v1.close();

    const store = await ChannelStore.open(name);
    expect(store.pinned('chn_old')).toBe('KEY');
    expect(store.cursor('chn_old')).toBe(5);
    expect(store.heldHandovers()).toEqual([]);
    store.holdHandover(handover('g1', 1, 'S'));
    await store.flushed();
    store.close();
    const again = await ChannelStore.open(name);
    expect(again.heldHandovers()).toEqual([handover('g1', 1, 'S')]);
    expect(again.pinned('chn_old')).toBe('KEY');
    again.close();
  });
});
