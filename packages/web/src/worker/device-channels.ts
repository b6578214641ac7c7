/**
 * Broadcast channels on the web device (issue 16), over the SDK's ChannelClient: the channel list
 * with unread counts from the subscription cursor, a channel's posts read from the cursor, kept in
 * the worker's IndexedDB (channel-store.ts) and paged back as the person scrolls up, posting,
 * editing and deleting (signed with the channel key this device holds), subscribing by @name or
 * invite link, invites and admins. Posts are public broadcasts, not end-to-end encrypted; every post
 * is checked against the channel key pinned on subscribe, and one that fails is kept as rejected.
 *
 * Only the channel open on screen is read as posts arrive: the account's subscription cursor then
 * says what the person has seen (on any device), which the unread counts and the server's view
 * counts come from; other channels are only counted.
 */
import { type ChannelView, type ChannelVisibility, CourierError, type UserView } from '@courier/protocol';
import {
  type AnyContent,
  ChannelClient,
  type ChannelFileOptions,
  type CourierConnection,
  type CourierHttp,
  channelKeyText,
  type FileDescriptor,
  type MediaEndpoint,
  type PlaintextSource,
  type SecureClient,
} from '@courier/sdk';
import { channelLink, type ChannelTarget } from '../ui/channel-link.ts';
import { ChannelAdmins } from './channel-admins.ts';
import { fileOfHeld, held, rowOf } from './channel-post-forms.ts';
import type { FileDescription } from './device-media.ts';
import type { ChannelStore, HeldChannelPost } from './channel-store.ts';
import type {
  ChannelAdminRow,
  ChannelInviteRow,
  ChannelPostPage,
  ChannelPreview,
  ChannelSummary,
  DeviceEvent,
} from './types.ts';

/** Unread posts counted per channel, at most (the list then says "99+"). */
export const UNREAD_CAP = 99;
/** On first opening a channel, how many of its latest positions are read (older ones as the person scrolls). */
const FIRST_READ = 100;
/** How many of the newest positions are read again on opening a channel, for their view counts. */
const VIEWS_REFRESHED = 50;
const VIEWS_EVERY_MS = 10_000;
/** Positions read per step when paging back. */
const WINDOW = 100;

export interface ChannelDeps {
  http: CourierHttp;
  connection: CourierConnection;
  /** The device's E2E client: channel keys travel in its chats (channel-admins.ts). */
  secure: SecureClient;
  /** Where channel media goes up and comes down. */
  endpoint: () => MediaEndpoint;
  store: ChannelStore;
  origin: string;
  emit: (event: DeviceEvent) => void;
  /** A person by @username or phone number (to name an admin). */
  find: (handle: string) => Promise<UserView>;
}

export class DeviceChannels {
  private readonly client: ChannelClient;
  private readonly admins: ChannelAdmins;
  private readonly views = new Map<string, ChannelView>();
  /** The channel open on screen: the only one read as posts arrive. */
  private open: string | undefined;
  private readonly off: (() => void)[] = [];
  /** When each channel's view counts were last read again. */
  private readonly viewsReadAt = new Map<string, number>();

  constructor(private readonly deps: ChannelDeps) {
    this.client = new ChannelClient(deps.http, deps.store);
    this.admins = new ChannelAdmins(this.client, deps.secure, deps.store, deps.emit);
    this.off.push(
      this.client.on('post', (post) => deps.store.keep(held(post))),
      deps.connection.on('channel_posted', ({ channelId, seq }) => {
        if (channelId === this.open && seq > deps.store.cursor(channelId))
          void this.read(channelId)
            .then(() => this.refreshViews(channelId, false))
            .catch((error: unknown) => this.problem(error));
        else deps.emit({ kind: 'channels' });
      }),
    );
  }

  stop(): void {
    this.admins.stop();
    for (const off of this.off) off();
    this.open = undefined;
  }

  private problem(error: unknown): void {
    this.deps.emit({
      kind: 'problem',
      message: error instanceof Error ? error.message : 'A channel could not be read.',
    });
  }

  /** Reads a channel from this device's cursor (every post after it, in order, once) and says so. */
  private async read(channelId: string): Promise<void> {
    await this.client.sync(channelId);
    await this.deps.store.flushed();
    this.deps.emit({ kind: 'channel', channelId });
    this.deps.emit({ kind: 'channels' });
  }

  // The list --------------------------------------------------------------------------------------

  /** The channels I subscribe to (and own or help run), with unread counts; newest activity first. */
  async list(): Promise<ChannelSummary[]> {
    const views = await offline(
      () => this.client.list(),
      () => this.deps.store.lastViews(),
    );
    for (const view of views) this.remember(view);
    const summaries = await Promise.all(views.map((view) => this.summary(view)));
    return summaries.sort((a, b) => b.unread - a.unread || a.title.localeCompare(b.title));
  }

  /** One channel (for its view), asked of the server again (offline: as last shown). */
  async show(channelId: string): Promise<ChannelSummary> {
    const view = await offline(
      () => this.client.show(channelId),
      () => this.deps.store.lastView(channelId),
    );
    this.remember(view);
    return this.summary(view);
  }

  private remember(view: ChannelView): void {
    this.views.set(view.channelId, view);
    this.deps.store.saveView(view);
  }

  private async summary(view: ChannelView, count = true): Promise<ChannelSummary> {
    const pinned = this.deps.store.pinned(view.channelId);
    let unread = 0;
    let unreadMore = false;
    // Posts after the subscription's cursor that this device does not hold yet: new to the person.
    // (Reading after the cursor does not move it.) The open channel is being read: nothing is unread.
    if (count && view.myRole !== null && view.lastSeq > view.cursor && view.channelId !== this.open) {
      const page = await offline(
        () => this.client.posts(view.channelId, view.cursor, UNREAD_CAP + 1),
        () => ({ posts: [], lastSeq: view.cursor }),
      );
      const fresh = page.posts.filter((p) => p.kind === 'verified' && !p.deleted);
      const held = await this.deps.store.holds(
        view.channelId,
        fresh.map((p) => p.postId),
      );
      unread = fresh.filter((p) => !held.has(p.postId)).length;
      unreadMore = unread > UNREAD_CAP || (page.posts.at(-1)?.seq ?? page.lastSeq) < page.lastSeq;
      unread = Math.min(unread, UNREAD_CAP);
    }
    return {
      channelId: view.channelId,
      name: view.name,
      title: view.title,
      // A view kept by an older version has none.
      description: view.description ?? '',
      visibility: view.visibility,
      myRole: view.myRole,
      subscriberCount: view.subscriberCount,
      unread,
      unreadMore,
      canPost: this.deps.store.secretKey(view.channelId) !== undefined,
      key: channelKeyText(pinned ?? view.publicKey),
      ...(pinned !== undefined && pinned !== view.publicKey
        ? { keyChange: { pinned: channelKeyText(pinned), served: channelKeyText(view.publicKey) } }
        : {}),
    };
  }

  // Reading ---------------------------------------------------------------------------------------

  /**
   * The person opened a channel (or closed it: undefined): it is read now, and again as posts arrive.
   * The first time on this device, reading starts near the newest post; older ones come as the person
   * scrolls back.
   */
  async setOpen(channelId: string | undefined): Promise<void> {
    this.open = channelId;
    if (channelId === undefined) return;
    const { store } = this.deps;
    if (store.heldFrom(channelId) === undefined) {
      const view = this.views.get(channelId) ?? (await this.client.show(channelId));
      const start = Math.max(store.cursor(channelId), view.lastSeq - FIRST_READ, 0);
      store.setCursor(channelId, start);
      store.setHeldFrom(channelId, start);
    }
    await this.read(channelId);
    await this.refreshViews(channelId, true);
  }

  /**
   * View counts grow after a post was read: the newest positions held are read again for them, on
   * opening the channel and, while it stays open, with new posts at most every VIEWS_EVERY_MS.
   */
  private async refreshViews(channelId: string, now: boolean): Promise<void> {
    const last = this.viewsReadAt.get(channelId) ?? 0;
    if (!now && Date.now() - last < VIEWS_EVERY_MS) return;
    this.viewsReadAt.set(channelId, Date.now());
    const { store } = this.deps;
    const after = Math.max(store.heldFrom(channelId) ?? 0, store.cursor(channelId) - VIEWS_REFRESHED);
    const page = await this.client.posts(channelId, after, VIEWS_REFRESHED);
    for (const post of page.posts) store.keep(held(post));
    await store.flushed();
    this.deps.emit({ kind: 'channel', channelId });
  }

  /**
   * The newest `limit` posts of a channel, oldest first, from this device's copy; older positions are
   * read from the server when the copy has too few.
   */
  async page(channelId: string, limit: number): Promise<ChannelPostPage> {
    const { store } = this.deps;
    for (;;) {
      const complete = await store.completeFrom(channelId);
      const { posts, moreHeld } = await store.newest(channelId, limit, complete);
      const from = store.heldFrom(channelId) ?? 0;
      if (posts.length >= limit || from === 0) return { rows: posts.map(rowOf), more: moreHeld || from > 0 };
      await this.readBack(channelId, from);
    }
  }

  /** Reads the posts at positions (from − WINDOW, from] (the server's page bytes may need several reads). */
  private async readBack(channelId: string, from: number): Promise<void> {
    const { store } = this.deps;
    const after = Math.max(0, from - WINDOW);
    let at = after;
    for (;;) {
      const page = await this.client.posts(channelId, at, WINDOW);
      for (const post of page.posts) if (post.seq <= from) store.keep(held(post));
      const last = page.posts.at(-1);
      if (!last || last.seq >= from) break;
      at = last.seq;
    }
    store.setHeldFrom(channelId, after);
    await store.flushed();
  }

  // Posting (devices that hold the channel key) ---------------------------------------------------

  async post(channelId: string, content: AnyContent): Promise<void> {
    await this.keepMine(channelId, content, await this.refusedRole(this.client.post(channelId, content)));
  }

  /**
   * The server refused a post because this account is no longer an admin (the role was taken back
   * on another device): the channel is shown again, without the composer.
   */
  private async refusedRole<T>(posting: Promise<T>): Promise<T> {
    try {
      return await posting;
    } catch (error) {
      if (error instanceof CourierError && error.code === 'CHANNEL_NOT_ADMIN')
        this.deps.emit({ kind: 'channels' });
      throw error;
    }
  }

  /**
   * Encrypts, uploads (progress, cancel, resume, the post id through `options`) and posts a file;
   * keeps the post.
   */
  async postFile(
    channelId: string,
    source: PlaintextSource,
    describe: FileDescription,
    options: ChannelFileOptions,
  ): Promise<void> {
    const view = await this.refusedRole(
      this.client.postFile(this.deps.endpoint(), channelId, source, describe, options),
    );
    await this.keepMine(channelId, { v: 1, type: 'file', file: view.file, sentAtMs: view.createdAtMs }, view);
  }

  /** The file of a post this device keeps (checked against the channel key when read). */
  async file(channelId: string, postId: string): Promise<FileDescriptor | undefined> {
    return fileOfHeld(await this.deps.store.post(channelId, postId));
  }

  private async keepMine(
    channelId: string,
    content: AnyContent,
    view: { postId: string; seq: number; createdAtMs: number; revision: number; views: number },
  ): Promise<void> {
    this.deps.store.keep({
      channelId,
      postId: view.postId,
      seq: view.seq,
      order: view.createdAtMs,
      revision: view.revision,
      deleted: false,
      content: { kind: 'known', content, shown: true },
      createdAtMs: view.createdAtMs,
      editedAtMs: null,
      views: view.views,
    });
    await this.deps.store.flushed();
    this.deps.emit({ kind: 'channel', channelId });
  }

  async edit(channelId: string, postId: string, text: string): Promise<void> {
    const before = await this.heldPost(channelId, postId);
    const content: AnyContent = { v: 1, type: 'text', text, sentAtMs: Date.now() };
    const view = await this.client.edit(channelId, postId, before.revision, content);
    this.deps.store.keep({
      ...before,
      seq: view.seq,
      revision: view.revision,
      content: { kind: 'known', content, shown: true },
      editedAtMs: view.editedAtMs,
    });
    await this.deps.store.flushed();
    this.deps.emit({ kind: 'channel', channelId });
  }

  async delete(channelId: string, postId: string): Promise<void> {
    const before = await this.heldPost(channelId, postId);
    const view = await this.client.delete(channelId, postId, before.revision);
    const { content: _gone, ...rest } = before;
    this.deps.store.keep({ ...rest, seq: view.seq, revision: view.revision, deleted: true });
    await this.deps.store.flushed();
    this.deps.emit({ kind: 'channel', channelId });
  }

  private async heldPost(channelId: string, postId: string): Promise<HeldChannelPost> {
    const post = await this.deps.store.post(channelId, postId);
    if (!post || post.deleted || post.rejected) throw new CourierError('CHANNEL_POST_NOT_FOUND');
    return post;
  }

  // Making, finding, subscribing ------------------------------------------------------------------

  async create(
    name: string,
    title: string,
    visibility: ChannelVisibility,
    description = '',
  ): Promise<ChannelSummary> {
    const view = await this.client.create(
      name.trim().replace(/^@/, ''),
      title.trim(),
      visibility,
      description.trim(),
    );
    this.remember(view);
    this.deps.store.setHeldFrom(view.channelId, 0);
    await this.deps.store.flushed();
    this.deps.emit({ kind: 'channels' });
    // As the CLI does: the account's other devices get the key end to end (in the background).
    void this.admins.shareIfOtherDevices(view.channelId).catch((error: unknown) => this.problem(error));
    return this.summary(view, false);
  }

  /**
   * What a link or @name leads to, before subscribing (nothing is pinned, joined or counted): a
   * public channel by name shows itself; a live invite link shows its channel, private ones too
   * (the server's invite preview); a revoked or unknown link is CHANNEL_INVITE_INVALID.
   */
  async preview(target: ChannelTarget): Promise<ChannelPreview> {
    const shown = channelLink(this.deps.origin, target);
    if ('invite' in target) {
      const p = await this.client.previewInvite(target.invite);
      const view: ChannelView = {
        channelId: p.channelId,
        name: p.name,
        title: p.title,
        description: p.description,
        visibility: p.visibility,
        publicKey: p.publicKey,
        createdAtMs: 0,
        lastSeq: 0,
        subscriberCount: p.subscriberCount,
        myRole: p.myRole,
        cursor: 0,
      };
      return { kind: 'channel', channel: await this.summary(view, false), target: shown, invite: true };
    }
    const view = await this.deps.http.call<ChannelView>(
      'GET',
      `/v1/channels/${encodeURIComponent(target.name)}`,
    );
    return { kind: 'channel', channel: await this.summary(view, false), target: shown, invite: false };
  }

  /** Subscribes (pinning the channel's key) and returns the channel. */
  async subscribe(target: ChannelTarget): Promise<ChannelSummary> {
    const view = await this.client.subscribe(target);
    this.remember(view);
    await this.deps.store.flushed();
    this.deps.emit({ kind: 'channels' });
    return this.summary(view, false);
  }

  async unsubscribe(channelId: string): Promise<void> {
    await this.client.unsubscribe(channelId);
    this.views.delete(channelId);
    if (this.open === channelId) this.open = undefined;
    await this.deps.store.flushed();
    this.deps.emit({ kind: 'channels' });
  }

  /**
   * The person checked the new key with the channel and accepts it: it is pinned, and the posts
   * rejected under the old pin are checked again.
   */
  async acceptKey(channelId: string): Promise<void> {
    const view = await this.deps.http.call<ChannelView>(
      'GET',
      `/v1/channels/${encodeURIComponent(channelId)}`,
    );
    this.client.acceptKey(channelId, view.publicKey);
    const { store } = this.deps;
    for (const rejected of await store.dropRejected(channelId)) {
      const page = await this.client.posts(channelId, rejected.seq - 1, 1);
      for (const post of page.posts) if (post.seq === rejected.seq) store.keep(held(post));
    }
    await store.flushed();
    this.deps.emit({ kind: 'channel', channelId });
    this.deps.emit({ kind: 'channels' });
  }

  // Running a channel -----------------------------------------------------------------------------

  async invites(channelId: string): Promise<ChannelInviteRow[]> {
    const invites = await this.client.invites(channelId);
    return invites.map((i) => ({
      inviteId: i.inviteId,
      createdAtMs: i.createdAtMs,
      revokedAtMs: i.revokedAtMs,
    }));
  }

  /** A new invite link (its token is shown this once: the server keeps only a hash). */
  async createInvite(channelId: string): Promise<{ inviteId: string; link: string }> {
    const invite = await this.client.createInvite(channelId);
    return { inviteId: invite.inviteId, link: channelLink(this.deps.origin, { invite: invite.token }) };
  }

  /** The owner or an admin sets the title and description; subscribers see them on their next read. */
  async editInfo(channelId: string, info: { title: string; description: string }): Promise<ChannelSummary> {
    const view = await this.client.editInfo(channelId, info);
    this.remember(view);
    this.deps.emit({ kind: 'channels' });
    return this.summary(view);
  }

  revokeInvite(channelId: string, inviteId: string): Promise<void> {
    return this.client.revokeInvite(channelId, inviteId);
  }

  /** The owner and admins (asked by the owner or an admin), by name and @username. */
  async adminList(channelId: string): Promise<ChannelAdminRow[]> {
    const admins = await this.client.admins(channelId);
    return admins.map((a) => ({
      accountId: a.accountId,
      role: a.role,
      name: a.displayName || (a.username ? `@${a.username}` : 'Someone without a name'),
      username: a.username,
      sinceMs: a.sinceMs,
      me: a.accountId === this.deps.secure.accountId,
    }));
  }

  /** Takes the admin role back from one listed admin (the owner's device). */
  async removeAdmin(channelId: string, accountId: string): Promise<void> {
    await this.admins.remove(channelId, accountId);
    this.deps.emit({ kind: 'channels' });
  }

  /**
   * Names an admin by @username or phone number and hands them the channel key end to end (`add`),
   * takes the role back (`remove`), or sends the key again (`send-key`: an admin's new device, or
   * one that missed it); returns how the person is called. An empty handle with `send-key` sends
   * the key to my own other devices.
   */
  async admin(channelId: string, handle: string, action: 'add' | 'remove' | 'send-key'): Promise<string> {
    if (action === 'send-key' && handle.trim() === '') {
      await this.admins.handOver(channelId, this.deps.secure.accountId);
      return 'your other devices';
    }
    const user = await this.deps.find(handle);
    if (action === 'add') await this.admins.add(channelId, user.accountId);
    else if (action === 'remove') await this.admins.remove(channelId, user.accountId);
    else await this.admins.handOver(channelId, user.accountId);
    this.deps.emit({ kind: 'channels' });
    return user.displayName || (user.username ? `@${user.username}` : handle.trim());
  }
}

/**
 * Asks the server; when it cannot be reached, answers what this device kept instead (if anything),
 * so that channels read before show offline too.
 */
async function offline<T>(ask: () => Promise<T>, kept: () => T | undefined): Promise<T> {
  try {
    return await ask();
  } catch (error) {
    const fallback =
      error instanceof CourierError && error.code === 'SERVER_UNAVAILABLE' ? kept() : undefined;
    if (fallback === undefined) throw error;
    return fallback;
  }
}
