/**
 * What the web device keeps about broadcast channels, in an IndexedDB database of the worker (never
 * in the page's localStorage): the SDK's channel keyring (the key pinned on subscribe, the channel's
 * secret key on an owner's or admin's device, how far this device read) and the posts it read, so a
 * reload shows a channel at once and pages back through it without asking the server again.
 *
 * The keyring interface is synchronous: everything is read into memory when the store opens and each
 * change is written through (in order) to IndexedDB.
 */
import type { ChannelView } from '@courier/protocol';
import {
  type AnyContent,
  type ChannelKeyring,
  type DecodedContent,
  type HeldChannelKeyHandover,
  handoverKey,
} from '@courier/sdk';

/** One post as held: its newest revision (a tombstone once deleted), or a post that failed verification. */
export interface HeldChannelPost {
  channelId: string;
  /** The post's id; `rejected:<seq>` for a post that did not verify (it never replaces a real one). */
  postId: string;
  seq: number;
  /** Where it shows: when the post was first made (a rejected one: when it arrived). */
  order: number;
  revision: number;
  deleted: boolean;
  rejected?: 'bad_signature' | 'malformed';
  content?: DecodedContent<AnyContent>;
  createdAtMs: number;
  editedAtMs: number | null;
  views: number;
}

/** Per channel: the keyring's part, and which posts are held (every post with seq > `from`). */
interface ChannelMeta {
  pinned?: string;
  secretKey?: Uint8Array;
  cursor: number;
  /** Every post with a seq above this is held (undefined: nothing read yet on this device). */
  from?: number;
  /** The channel as the server last showed it (for a list and a view while offline). */
  view?: ChannelView;
}

const request = <T>(r: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });

const done = (tx: IDBTransaction) =>
  new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });

export class ChannelStore implements ChannelKeyring {
  /** Writes, one after another (the keyring's calls are synchronous; their writes are not). */
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    private readonly db: IDBDatabase,
    private readonly meta: Map<string, ChannelMeta>,
    /** Handed-over channel keys not checked with the server yet (see the SDK's `followKeys`). */
    private readonly handovers: Map<string, HeldChannelKeyHandover>,
  ) {}

  static async open(deviceId: string): Promise<ChannelStore> {
    // Version 2 adds the `handovers` store (a version-1 database keeps its channels and posts).
    const open = indexedDB.open(`courier-channels-${deviceId}`, 2);
    open.onupgradeneeded = (event) => {
      const db = open.result;
      if (event.oldVersion < 1) {
        db.createObjectStore('meta');
        const posts = db.createObjectStore('posts', { keyPath: ['channelId', 'postId'] });
        posts.createIndex('byOrder', ['channelId', 'order', 'seq']);
      }
      if (event.oldVersion < 2) db.createObjectStore('handovers');
    };
    const db = await request(open);
    const tx = db.transaction(['meta', 'handovers']);
    const store = tx.objectStore('meta');
    const [keys, values, held] = await Promise.all([
      request(store.getAllKeys()) as Promise<string[]>,
      request(store.getAll()) as Promise<ChannelMeta[]>,
      request(tx.objectStore('handovers').getAll()) as Promise<HeldChannelKeyHandover[]>,
    ]);
    return new ChannelStore(
      db,
      new Map(keys.map((k, i) => [k, values[i]!])),
      new Map(held.map((h) => [handoverKey(h), h])),
    );
  }

  /** Resolves once every change made so far is on disk. */
  flushed(): Promise<void> {
    return this.writes;
  }

  close(): void {
    this.db.close();
  }

  private queue(write: () => Promise<void>): void {
    this.writes = this.writes.then(write).catch((error: unknown) => {
      console.error('courier: a channel change could not be saved on this device', error);
    });
  }

  private change(channelId: string, edit: (meta: ChannelMeta) => void): void {
    const meta = { ...(this.meta.get(channelId) ?? { cursor: 0 }) };
    edit(meta);
    this.meta.set(channelId, meta);
    this.queue(async () => {
      const tx = this.db.transaction('meta', 'readwrite');
      tx.objectStore('meta').put(meta, channelId);
      await done(tx);
    });
  }

  // The SDK's ChannelKeyring ----------------------------------------------------------------------

  pinned(channelId: string): string | undefined {
    return this.meta.get(channelId)?.pinned;
  }

  pin(channelId: string, publicKey: string): void {
    this.change(channelId, (m) => {
      m.pinned = publicKey;
    });
  }

  secretKey(channelId: string): Uint8Array | undefined {
    return this.meta.get(channelId)?.secretKey;
  }

  setSecretKey(channelId: string, secretKey: Uint8Array): void {
    this.change(channelId, (m) => {
      m.secretKey = secretKey;
    });
  }

  cursor(channelId: string): number {
    return this.meta.get(channelId)?.cursor ?? 0;
  }

  setCursor(channelId: string, seq: number): void {
    if (seq <= this.cursor(channelId)) return;
    this.change(channelId, (m) => {
      m.cursor = seq;
    });
  }

  forget(channelId: string): void {
    this.meta.delete(channelId);
    this.queue(async () => {
      const tx = this.db.transaction(['meta', 'posts'], 'readwrite');
      tx.objectStore('meta').delete(channelId);
      tx.objectStore('posts').delete(IDBKeyRange.bound([channelId, ''], [channelId, '\uffff'], false, false));
      await done(tx);
    });
  }

  heldHandovers(): HeldChannelKeyHandover[] {
    return [...this.handovers.values()];
  }

  holdHandover(handover: HeldChannelKeyHandover): void {
    const key = handoverKey(handover);
    this.handovers.set(key, handover);
    this.queue(async () => {
      const tx = this.db.transaction('handovers', 'readwrite');
      tx.objectStore('handovers').put(handover, key);
      await done(tx);
    });
  }

  dropHandover(groupId: string, seq: number): void {
    const key = handoverKey({ groupId, seq });
    if (!this.handovers.delete(key)) return;
    this.queue(async () => {
      const tx = this.db.transaction('handovers', 'readwrite');
      tx.objectStore('handovers').delete(key);
      await done(tx);
    });
  }

  /** The channel as the server last showed it. */
  lastView(channelId: string): ChannelView | undefined {
    return this.meta.get(channelId)?.view;
  }

  /** The channels last listed as mine (offline, the list shows these). */
  lastViews(): ChannelView[] {
    return [...this.meta.values()].flatMap((m) => (m.view && m.view.myRole !== null ? [m.view] : []));
  }

  /** Keeps what the server showed (written only when it changed). */
  saveView(view: ChannelView): void {
    if (JSON.stringify(this.meta.get(view.channelId)?.view) === JSON.stringify(view)) return;
    this.change(view.channelId, (m) => {
      m.view = view;
    });
  }

  // Posts -----------------------------------------------------------------------------------------

  /** Every post with a seq above this is held; undefined before this device read the channel. */
  heldFrom(channelId: string): number | undefined {
    return this.meta.get(channelId)?.from;
  }

  /** Starts (or extends back) the run of held posts. */
  setHeldFrom(channelId: string, from: number): void {
    this.change(channelId, (m) => {
      m.from = from;
    });
  }

  /**
   * Keeps a post read from the server: a newer revision replaces the held one (a deletion leaves a
   * tombstone, so an older copy never comes back); a rejected post is kept beside, never instead.
   */
  keep(post: HeldChannelPost): void {
    this.queue(async () => {
      const tx = this.db.transaction('posts', 'readwrite');
      const posts = tx.objectStore('posts');
      const held = (await request(posts.get([post.channelId, post.postId]))) as HeldChannelPost | undefined;
      if (!held || held.revision < post.revision || (held.revision === post.revision && held.seq <= post.seq))
        // A rejected post read again keeps its place (it has no time of its own).
        posts.put(held?.rejected ? { ...post, order: held.order, createdAtMs: held.createdAtMs } : post);
      await done(tx);
    });
  }

  async post(channelId: string, postId: string): Promise<HeldChannelPost | undefined> {
    await this.writes;
    const tx = this.db.transaction('posts');
    return (await request(tx.objectStore('posts').get([channelId, postId]))) as HeldChannelPost | undefined;
  }

  /** Removes the posts that failed verification (to read them again, e.g. after a new key was accepted). */
  async dropRejected(channelId: string): Promise<HeldChannelPost[]> {
    await this.writes;
    const tx = this.db.transaction('posts', 'readwrite');
    const range = IDBKeyRange.bound([channelId, 'rejected:'], [channelId, 'rejected:\uffff']);
    const rejected = (await request(tx.objectStore('posts').getAll(range))) as HeldChannelPost[];
    tx.objectStore('posts').delete(range);
    await done(tx);
    return rejected;
  }

  /** Which of these post ids this device holds (any revision, deleted included). */
  async holds(channelId: string, postIds: string[]): Promise<Set<string>> {
    await this.writes;
    const tx = this.db.transaction('posts');
    const store = tx.objectStore('posts');
    const found = await Promise.all(
      postIds.map(async (id) => ((await request(store.getKey([channelId, id]))) === undefined ? null : id)),
    );
    return new Set(found.filter((id): id is string => id !== null));
  }

  /**
   * The newest `limit` shown posts (deleted ones left out) at or after `notBefore` in showing order,
   * returned oldest first, and whether more held ones lie before them.
   */
  async newest(
    channelId: string,
    limit: number,
    notBefore: number,
  ): Promise<{ posts: HeldChannelPost[]; moreHeld: boolean }> {
    await this.writes;
    const tx = this.db.transaction('posts');
    const index = tx.objectStore('posts').index('byOrder');
    const range = IDBKeyRange.bound(
      [channelId, notBefore, -1],
      [channelId, Number.MAX_SAFE_INTEGER, Infinity],
    );
    const posts: HeldChannelPost[] = [];
    let moreHeld = false;
    await new Promise<void>((resolve, reject) => {
      const cursor = index.openCursor(range, 'prev');
      cursor.onerror = () => reject(cursor.error);
      cursor.onsuccess = () => {
        const at = cursor.result;
        if (!at) return resolve();
        const post = at.value as HeldChannelPost;
        if (!post.deleted) {
          if (posts.length === limit) {
            moreHeld = true;
            return resolve();
          }
          posts.push(post);
        }
        at.continue();
      };
    });
    return { posts: posts.reverse(), moreHeld };
  }

  /**
   * Where the complete part of the held posts begins, in showing order: posts made before the oldest
   * held new post (revision 0 above `from`) may not be held yet. 0 when the whole channel is held.
   */
  async completeFrom(channelId: string): Promise<number> {
    const from = this.heldFrom(channelId) ?? 0;
    if (from === 0) return 0;
    await this.writes;
    const tx = this.db.transaction('posts');
    const index = tx.objectStore('posts').index('byOrder');
    const range = IDBKeyRange.bound([channelId, -1, -1], [channelId, Number.MAX_SAFE_INTEGER, Infinity]);
    return new Promise<number>((resolve, reject) => {
      const cursor = index.openCursor(range);
      cursor.onerror = () => reject(cursor.error);
      cursor.onsuccess = () => {
        const at = cursor.result;
        if (!at) return resolve(Number.MAX_SAFE_INTEGER);
        const post = at.value as HeldChannelPost;
        if (post.revision === 0 && post.seq > from && post.rejected === undefined) return resolve(post.order);
        at.continue();
      };
    });
  }
}
