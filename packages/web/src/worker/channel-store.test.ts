import 'fake-indexeddb/auto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChannelStore, type HeldChannelPost } from './channel-store.ts';

let opened = 0;
const fresh = () => ChannelStore.open(`test-${++opened}`);

const postOf = (postId: string, revision: number, seq: number, extra: Partial<HeldChannelPost> = {}) => ({
  channelId: 'chn_a',
  postId,
  seq,
  order: Number(postId.slice(1)),
  revision,
  deleted: false,
  content: {
    kind: 'known' as const,
    content: { v: 1 as const, type: 'text' as const, text: `${postId} r${revision}`, sentAtMs: 1 },
    shown: true,
  },
  createdAtMs: Number(postId.slice(1)),
  editedAtMs: revision > 0 ? 2 : null,
  views: 0,
  ...extra,
});

describe('the web device channel store (IndexedDB)', () => {
  it('keeps the keyring across a reopen, moves the cursor only forward, and forgets a channel', async () => {
    const name = `test-${++opened}`;
    const store = await ChannelStore.open(name);
    store.pin('chn_a', 'KEY');
    store.setSecretKey('chn_a', new Uint8Array([1, 2, 3]));
    store.setCursor('chn_a', 7);
    store.setCursor('chn_a', 3);
    store.setHeldFrom('chn_a', 2);
    store.keep(postOf('p1', 0, 3));
    store.pin('chn_b', 'OTHER');
    await store.flushed();
    store.close();
    const again = await ChannelStore.open(name);
    expect(again.pinned('chn_a')).toBe('KEY');
    expect(again.secretKey('chn_a')).toEqual(new Uint8Array([1, 2, 3]));
    expect(again.cursor('chn_a')).toBe(7);
    expect(again.heldFrom('chn_a')).toBe(2);
    expect((await again.newest('chn_a', 10, 0)).posts.map((p) => p.postId)).toEqual(['p1']);
    again.forget('chn_a');
    expect(again.pinned('chn_a')).toBeUndefined();
    expect(again.cursor('chn_a')).toBe(0);
    expect((await again.newest('chn_a', 10, 0)).posts).toEqual([]);
    expect(again.pinned('chn_b')).toBe('OTHER');
    again.close();
  });

  it('whatever order revisions arrive in, the newest is held; deleted posts and rejected ones never replace it (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .array(
            fc.record({
              post: fc.integer({ min: 1, max: 6 }),
              revision: fc.integer({ min: 0, max: 4 }),
              deleted: fc.boolean(),
              rejected: fc.boolean(),
            }),
            { maxLength: 25 },
          )
          .chain((arrivals) => fc.shuffledSubarray(arrivals, { minLength: arrivals.length })),
        async (arrivals) => {
          const store = await fresh();
          arrivals.forEach((a, i) => {
            const seq = a.revision * 10 + a.post;
            if (a.rejected)
              store.keep(
                postOf(`rejected:${seq}`, 0, seq, {
                  rejected: 'bad_signature',
                  order: 1000 + i,
                  createdAtMs: 1000 + i,
                }),
              );
            else store.keep(postOf(`p${a.post}`, a.revision, seq, a.deleted ? { deleted: true } : {}));
          });
          const { posts } = await store.newest('chn_a', 100, 0);
          const newest = new Map<string, { revision: number; deleted: boolean }>();
          for (const a of arrivals) {
            if (a.rejected) continue;
            const held = newest.get(`p${a.post}`);
            // Equal revisions share a seq here: the later arrival wins, as in the store.
            if (!held || held.revision <= a.revision) newest.set(`p${a.post}`, a);
          }
          const shown = posts.filter((p) => p.rejected === undefined);
          expect(shown.map((p) => p.postId).sort()).toEqual(
            [...newest]
              .filter(([, v]) => !v.deleted)
              .map(([k]) => k)
              .sort(),
          );
          for (const p of shown) expect(p.revision).toBe(newest.get(p.postId)!.revision);
          expect(posts.filter((p) => p.rejected !== undefined).length).toBe(
            new Set(arrivals.filter((a) => a.rejected).map((a) => a.revision * 10 + a.post)).size,
          );
          store.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('pages newest first by when posts were made, and knows where the complete part begins', async () => {
    const store = await fresh();
    store.setHeldFrom('chn_a', 20);
    // Posts 21..30 held; post 3 edited lately (its newest revision sits at position 31).
    for (let n = 21; n <= 30; n++) store.keep(postOf(`p${n}`, 0, n));
    store.keep(postOf('p3', 1, 31));
    expect(await store.completeFrom('chn_a')).toBe(21);
    const page = await store.newest('chn_a', 4, await store.completeFrom('chn_a'));
    expect(page.posts.map((p) => p.postId)).toEqual(['p27', 'p28', 'p29', 'p30']);
    expect(page.moreHeld).toBe(true);
    const all = await store.newest('chn_a', 50, await store.completeFrom('chn_a'));
    // The edited old post is not shown before the posts around it are held.
    expect(all.posts.map((p) => p.postId)).not.toContain('p3');
    expect(all.moreHeld).toBe(false);
    store.setHeldFrom('chn_a', 0);
    expect(await store.completeFrom('chn_a')).toBe(0);
    expect((await store.newest('chn_a', 50, 0)).posts[0]!.postId).toBe('p3');
    expect(await store.holds('chn_a', ['p3', 'p4', 'p21'])).toEqual(new Set(['p3', 'p21']));
    store.close();
  });
});
