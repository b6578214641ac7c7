import 'fake-indexeddb/auto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type PendingUpload, PendingUploads, type UploadTarget } from './pending-uploads.ts';

let opened = 0;
const fresh = () => {
  const deviceId = `test-${++opened}`;
  return { deviceId, store: PendingUploads.open(deviceId) };
};

const upload = (id: string, target: UploadTarget, createdAtMs: number): PendingUpload => ({
  id,
  target,
  file: new Blob([new Uint8Array([1, 2, 3])]),
  meta: { name: `${id}.bin`, mime: 'application/octet-stream' },
  key: new Uint8Array(32).fill(7),
  createdAtMs,
});

const target = fc.oneof(
  fc.record({ kind: fc.constant('chat' as const), groupId: fc.string(), clientMsgId: fc.string() }),
  fc.record({
    kind: fc.constant('channel' as const),
    channelId: fc.string(),
    postId: fc.string(),
    sentAtMs: fc.nat(),
  }),
);

describe('pending uploads (chat or channel target)', () => {
  it('keeps any mix of chat and channel uploads with their targets, oldest first, until deleted', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.record({ id: fc.uuid(), target, createdAtMs: fc.nat() }), {
          selector: (u) => u.id,
          maxLength: 6,
        }),
        async (entries) => {
          const store = await fresh().store;
          for (const e of entries) await store.put(upload(e.id, e.target, e.createdAtMs));
          const all = await store.all();
          expect(all.map((u) => u.createdAtMs)).toEqual(
            entries.map((e) => e.createdAtMs).sort((a, b) => a - b),
          );
          for (const e of entries) expect(all.find((u) => u.id === e.id)?.target).toEqual(e.target);
          const [first] = entries;
          if (first) {
            await store.setUploadUrl(first.id, 'https://server/v1/media/uploads/x');
            const again = (await store.all()).find((u) => u.id === first.id);
            expect(again).toMatchObject({
              target: first.target,
              uploadUrl: 'https://server/v1/media/uploads/x',
            });
            await store.delete(first.id);
            expect(await store.has(first.id)).toBe(false);
          }
          expect((await store.all()).length).toBe(Math.max(0, entries.length - 1));
          store.close();
        },
      ),
      { numRuns: 30 },
    );
  });

  it('reads a chat upload an earlier version kept (its chat at the top, no target) as a chat target', async () => {
    const { deviceId, store: opening } = fresh();
    const store = await opening;
    store.close();
    // What the earlier version wrote, straight into its database.
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open(`courier-uploads-${deviceId}`, 1);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const { target: _t, file, ...rest } = upload('old', { kind: 'chat', groupId: 'g', clientMsgId: 'c' }, 5);
    const tx = db.transaction(['uploads', 'files'], 'readwrite');
    tx.objectStore('uploads').put({ ...rest, groupId: 'grp_1', clientMsgId: 'msg_1' });
    tx.objectStore('uploads').put({ ...rest, id: 'broken' });
    tx.objectStore('files').put(file, 'old');
    tx.objectStore('files').put(file, 'broken');
    await new Promise((resolve) => {
      tx.oncomplete = resolve;
    });
    db.close();
    const reopened = await PendingUploads.open(deviceId);
    const all = await reopened.all();
    // A record naming no chat and no target is no upload to go on with.
    expect(all.map((u) => u.id)).toEqual(['old']);
    expect(all[0]?.target).toEqual({ kind: 'chat', groupId: 'grp_1', clientMsgId: 'msg_1' });
    expect(all[0]).not.toHaveProperty('groupId');
    reopened.close();
  });
});
