import { createHash } from 'node:crypto';
import {
  CHANNEL_NAME_PATTERN,
  CHANNEL_POST_ID_PATTERN,
  type ChannelAdminView,
  type ChannelInvitePreview,
  type ChannelInviteView,
  type ChannelPostBody,
  type ChannelPostsPage,
  type ChannelPostView,
  type ChannelView,
  CourierError,
  channelKeyFingerprint,
  type CreateChannelBody,
  type EditChannelBody,
  decodeBase64,
  encodeBase64,
  isId,
  MAX_CHANNEL_DESCRIPTION_LENGTH,
  MAX_CHANNEL_PAGE,
  MAX_CHANNEL_POST_BYTES,
  MAX_CHANNEL_TITLE_LENGTH,
  newId,
  UNSAFE_TEXT_PATTERN,
} from '@courier/protocol';
import { verifyChannelPostNatively } from './native-post-signature.ts';
import type { Bus } from '../bus/ports.ts';
import type { ServerDeps } from '../deps.ts';
import type {
  ChannelInviteRow,
  ChannelPostRow,
  ChannelRow,
  ChannelSubscriptionRow,
  Storage,
  Stores,
} from '../storage/ports.ts';

/** What the channel service needs of the media service: deleting blobs (bytes and records). */
export interface ChannelMediaPort {
  removeBlobs(ids: readonly string[]): Promise<void>;
}

const BLOB_ID = /^[a-f0-9]{32}$/;
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The media blobs a post's content carries: a `file` content's blob (the same encoding as a chat's
 * file message: the blob id, and the key and digest the signature covers). Any other content, or
 * bytes that are not a content object, carry none.
 */
export function blobsOfPost(body: Uint8Array): string[] {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch {
    return [];
  }
  if (typeof value !== 'object' || value === null) return [];
  const { type, file } = value as { type?: unknown; file?: unknown };
  if (type !== 'file' || typeof file !== 'object' || file === null) return [];
  const blobId = (file as { blobId?: unknown }).blobId;
  return typeof blobId === 'string' && BLOB_ID.test(blobId) ? [blobId] : [];
}

export interface ChannelLimits {
  /** Payload bytes one page of posts may carry (the first post always comes). */
  pageBytes: number;
  /** Subscribes plus unsubscribes one account may make per `subscriptionWindowMs`. */
  subscriptionChanges: number;
  subscriptionWindowMs: number;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** A channel's title and description, trimmed, or CHANNEL_INVALID (at creation and on edit alike). */
function checkedInfo(rawTitle: string, rawDescription: string): { title: string; description: string } {
  const title = rawTitle.trim();
  const description = rawDescription.trim();
  if (
    title.length === 0 ||
    title.length > MAX_CHANNEL_TITLE_LENGTH ||
    UNSAFE_TEXT_PATTERN.test(title) ||
    description.length > MAX_CHANNEL_DESCRIPTION_LENGTH ||
    // Line breaks are a description's own; other control and direction characters are not.
    UNSAFE_TEXT_PATTERN.test(description.replaceAll('\n', ' '))
  )
    throw new CourierError('CHANNEL_INVALID');
  return { title, description };
}

/** `@name`, `name` or a channel id, as typed by a person. */
export function normaliseChannelName(text: string): string {
  return text.trim().replace(/^@/, '').toLowerCase();
}

const postView = (row: ChannelPostRow): ChannelPostView => ({
  postId: row.postId,
  seq: row.seq,
  revision: row.revision,
  deleted: row.deleted,
  body: encodeBase64(row.payload),
  signature: encodeBase64(row.signature),
  createdAtMs: row.createdAt,
  editedAtMs: row.editedAt,
  views: row.views,
});

/**
 * Broadcast channels (issue 16): a channel's posts are stored once and read by every subscriber
 * from its own cursor; a new post is one row and one bus signal, never a write per subscriber. The
 * server checks that an admin posts and that the channel's key signed the post; who subscribes is
 * known only to the server (admins see a count), and reading is counted per post without recording
 * who read it.
 */
export class ChannelService {
  /** Hears each post this node committed, before its bus signal (the gateway fans it out from the row). */
  private committed: (rows: readonly ChannelPostRow[]) => void = () => {};

  constructor(
    private readonly storage: Storage,
    private readonly bus: Bus,
    private readonly deps: Pick<ServerDeps, 'clock' | 'random'>,
    private readonly limits: ChannelLimits,
    /** Deletes the blobs of deleted posts and channels (absent: their records wait for retention). */
    private readonly media?: ChannelMediaPort,
  ) {}

  /** Who hears the posts committed on this node (the gateway); one listener. */
  setCommitListener(listener: (rows: readonly ChannelPostRow[]) => void): void {
    this.committed = listener;
  }

  async create(accountId: string, body: CreateChannelBody): Promise<ChannelView> {
    const name = normaliseChannelName(body.name);
    if (!CHANNEL_NAME_PATTERN.test(name)) throw new CourierError('CHANNEL_NAME_INVALID');
    const { title, description } = checkedInfo(body.title, body.description ?? '');
    const publicKey = decodeBase64(body.publicKey);
    if ((body.visibility !== 'public' && body.visibility !== 'private') || publicKey?.length !== 32)
      throw new CourierError('CHANNEL_INVALID');
    const now = this.deps.clock.now();
    const row: ChannelRow = {
      id: newId('channel', this.deps.random),
      name,
      title,
      description,
      visibility: body.visibility,
      ownerAccountId: accountId,
      publicKey,
      createdAt: now,
      lastSeq: 0,
      subscriberCount: 1,
    };
    await this.storage.transaction(async (stores) => {
      if (!(await stores.channels.insert(row))) throw new CourierError('CHANNEL_NAME_TAKEN');
      await stores.channelSubscriptions.insert({
        accountId,
        channelId: row.id,
        cursor: 0,
        subscribedAt: now,
      });
    });
    await this.bus.publish({
      type: 'channel_subscriptions_changed',
      channelId: row.id,
      accountIds: [accountId],
    });
    return this.view(row, 0, 'owner');
  }

  /**
   * The owner or an admin sets the channel's title, description, or both (checked as at creation;
   * a field left out stays). Subscribers see it on their next read of the channel (show, list, the
   * invite preview): nothing is pushed, as nothing in a post changes.
   */
  async edit(accountId: string, channelId: string, body: EditChannelBody): Promise<ChannelView> {
    const channel = await this.requireAdmin(accountId, channelId);
    if (body.title === undefined && body.description === undefined)
      throw new CourierError('CHANNEL_INVALID', {
        message: 'Nothing to change: give a title, a description or both.',
      });
    const info = checkedInfo(body.title ?? channel.title, body.description ?? channel.description);
    if (!(await this.storage.channels.setInfo(channel.id, info))) throw new CourierError('CHANNEL_NOT_FOUND');
    return this.show(accountId, channel.id);
  }

  /** A channel by id or @name: public ones for anyone, private ones for their subscribers and admins. */
  async show(accountId: string, idOrName: string): Promise<ChannelView> {
    const channel = await this.find(idOrName);
    const subscription = await this.storage.channelSubscriptions.get(accountId, channel.id);
    const role = await this.roleOf(this.storage, channel, accountId);
    if (channel.visibility === 'private' && !subscription && role === null)
      throw new CourierError('CHANNEL_NOT_FOUND');
    return this.view(channel, subscription?.cursor ?? 0, role ?? (subscription ? 'subscriber' : null));
  }

  /** The channels the account subscribes to (its own included). */
  async list(accountId: string): Promise<ChannelView[]> {
    const subscriptions = await this.storage.channelSubscriptions.byAccount(accountId);
    const channels = new Map(
      (await this.storage.channels.byIds(subscriptions.map((s) => s.channelId))).map((c) => [c.id, c]),
    );
    const admin = new Set(await this.storage.channels.adminOf(accountId));
    return subscriptions.flatMap((s) => {
      const channel = channels.get(s.channelId);
      if (!channel) return [];
      const role =
        channel.ownerAccountId === accountId ? 'owner' : admin.has(channel.id) ? 'admin' : 'subscriber';
      return [this.view(channel, s.cursor, role)];
    });
  }

  /** Subscribes by @name (public channels) or by an invite token (any channel, while the link is live). */
  async subscribe(accountId: string, by: { name: string } | { invite: string }): Promise<ChannelView> {
    await this.takeSubscriptionChange(accountId);
    let channel: ChannelRow | undefined;
    if ('invite' in by) {
      channel = await this.channelOfInvite(by.invite);
    } else {
      channel = await this.find(by.name);
      if (channel.visibility === 'private') {
        // A private channel looks the same as no channel to someone who is not in it.
        const member =
          (await this.storage.channelSubscriptions.get(accountId, channel.id)) !== undefined ||
          (await this.roleOf(this.storage, channel, accountId)) !== null;
        if (!member) throw new CourierError('CHANNEL_PRIVATE');
      }
    }
    const found = channel;
    const now = this.deps.clock.now();
    const added = await this.storage.transaction(async (stores) => {
      const inserted = await stores.channelSubscriptions.insert({
        accountId,
        channelId: found.id,
        cursor: 0,
        subscribedAt: now,
      });
      if (inserted) await stores.channels.adjustSubscriberCount(found.id, 1);
      return inserted;
    });
    if (added)
      await this.bus.publish({
        type: 'channel_subscriptions_changed',
        channelId: found.id,
        accountIds: [accountId],
      });
    return this.show(accountId, found.id);
  }

  async unsubscribe(accountId: string, channelId: string): Promise<void> {
    await this.takeSubscriptionChange(accountId);
    const removed = await this.storage.transaction(async (stores) => {
      const deleted = await stores.channelSubscriptions.delete(accountId, channelId);
      if (deleted) await stores.channels.adjustSubscriberCount(channelId, -1);
      return deleted;
    });
    if (!removed) throw new CourierError('CHANNEL_NOT_SUBSCRIBED');
    await this.bus.publish({ type: 'channel_subscriptions_changed', channelId, accountIds: [accountId] });
  }

  /** A new post (revision 0) by an admin, signed by the channel's key; a retry of the same post is a no-op. */
  async post(accountId: string, channelId: string, body: ChannelPostBody): Promise<ChannelPostView> {
    const channel = await this.requireAdmin(accountId, channelId);
    const post = this.checkedPost(channel, body);
    if (post.revision !== 0 || post.deleted)
      throw new CourierError('CHANNEL_POST_INVALID', {
        message: 'A new post has revision 0 and is not deleted.',
      });
    const now = this.deps.clock.now();
    const row = await this.storage.transaction(async (stores) => {
      const existing = await stores.channelPosts.byPostId(channelId, post.postId);
      if (existing) {
        // A retry after a lost reply: the same signed post is already stored.
        if (Buffer.compare(existing.signature, post.signature) === 0 && existing.revision === 0)
          return existing;
        throw new CourierError('CHANNEL_POST_STALE_REVISION');
      }
      await this.claimBlobs(stores, channelId, post.postId, post.body);
      const seq = await stores.channels.nextSeq(channelId);
      const inserted: ChannelPostRow = {
        channelId,
        seq,
        firstSeq: seq,
        postId: post.postId,
        revision: 0,
        deleted: false,
        payload: post.body,
        signature: post.signature,
        authorAccountId: accountId,
        createdAt: now,
        editedAt: null,
        views: 0,
      };
      await stores.channelPosts.insert(inserted);
      return inserted;
    });
    this.committed([row]);
    await this.bus.publish({ type: 'channels_appended', channels: [[channelId, row.seq]] });
    return postView(row);
  }

  /** An edit or a deletion: a later revision, signed by the channel's key, moved to the next sequence number. */
  async revise(
    accountId: string,
    channelId: string,
    postId: string,
    body: ChannelPostBody,
  ): Promise<ChannelPostView> {
    const channel = await this.requireAdmin(accountId, channelId);
    if (body.postId !== postId) throw new CourierError('CHANNEL_POST_INVALID');
    const post = this.checkedPost(channel, body);
    if (post.deleted && post.body.length > 0)
      throw new CourierError('CHANNEL_POST_INVALID', { message: 'A deletion has an empty body.' });
    const now = this.deps.clock.now();
    let dropped: string[] = [];
    const row = await this.storage.transaction(async (stores) => {
      const existing = await stores.channelPosts.byPostId(channelId, postId);
      if (!existing) throw new CourierError('CHANNEL_POST_NOT_FOUND');
      if (existing.revision >= post.revision) throw new CourierError('CHANNEL_POST_STALE_REVISION');
      // Media the new revision no longer carries (all of it for a deletion) goes with the old one.
      const kept = await this.claimBlobs(stores, channelId, postId, post.body);
      dropped = (await stores.channelMedia.byPost(channelId, postId)).filter((id) => !kept.includes(id));
      await stores.channelMedia.release(dropped);
      const seq = await stores.channels.nextSeq(channelId);
      const change = {
        seq,
        revision: post.revision,
        deleted: post.deleted,
        payload: post.body,
        signature: post.signature,
        editedAt: now,
      };
      if (!(await stores.channelPosts.revise(channelId, postId, change)))
        throw new CourierError('CHANNEL_POST_STALE_REVISION');
      return { ...existing, ...change };
    });
    this.committed([row]);
    await this.media?.removeBlobs(dropped);
    await this.bus.publish({ type: 'channels_appended', channels: [[channelId, row.seq]] });
    return postView(row);
  }

  /**
   * Posts after `after`, in sequence order, at most `limit` and the server's page bytes. For a
   * subscriber, reading after N says it has everything up to N: its cursor moves there (never back)
   * and each post it passes gets one view. Public channels can be read without subscribing (no view).
   */
  async posts(accountId: string, channelId: string, after: number, limit: number): Promise<ChannelPostsPage> {
    const channel = await this.storage.channels.byId(channelId);
    if (!channel) throw new CourierError('CHANNEL_NOT_FOUND');
    const subscription = await this.storage.channelSubscriptions.get(accountId, channelId);
    if (!subscription) {
      if (channel.visibility === 'private' && (await this.roleOf(this.storage, channel, accountId)) === null)
        throw new CourierError('CHANNEL_NOT_FOUND');
    } else {
      await this.advance(subscription, Math.min(after, channel.lastSeq));
    }
    const rows = await this.storage.channelPosts.range(
      channelId,
      after,
      Math.max(1, Math.min(limit, MAX_CHANNEL_PAGE)),
      this.limits.pageBytes,
    );
    return { posts: rows.map(postView), lastSeq: channel.lastSeq };
  }

  /** Moves the subscription's cursor to `seq` (a cumulative "read up to"). */
  async markRead(accountId: string, channelId: string, seq: number): Promise<{ cursor: number }> {
    const channel = await this.storage.channels.byId(channelId);
    const subscription = await this.storage.channelSubscriptions.get(accountId, channelId);
    if (!channel || !subscription) throw new CourierError('CHANNEL_NOT_SUBSCRIBED');
    return { cursor: await this.advance(subscription, Math.min(seq, channel.lastSeq)) };
  }

  async createInvite(accountId: string, channelId: string): Promise<ChannelInviteView> {
    await this.requireAdmin(accountId, channelId);
    const token = base64url(this.deps.random(24));
    const row: ChannelInviteRow = {
      id: base64url(this.deps.random(12)),
      channelId,
      tokenHash: hashToken(token),
      createdBy: accountId,
      createdAt: this.deps.clock.now(),
      revokedAt: null,
    };
    await this.storage.channelInvites.insert(row);
    return { inviteId: row.id, token, createdAtMs: row.createdAt, revokedAtMs: null };
  }

  async invites(accountId: string, channelId: string): Promise<ChannelInviteView[]> {
    await this.requireAdmin(accountId, channelId);
    return (await this.storage.channelInvites.byChannel(channelId)).map((r) => ({
      inviteId: r.id,
      createdAtMs: r.createdAt,
      revokedAtMs: r.revokedAt,
    }));
  }

  async revokeInvite(accountId: string, channelId: string, inviteId: string): Promise<void> {
    await this.requireAdmin(accountId, channelId);
    if (!(await this.storage.channelInvites.revoke(channelId, inviteId, this.deps.clock.now())))
      throw new CourierError('CHANNEL_INVITE_INVALID');
  }

  /**
   * Who runs the channel, for its owner and admins only: the owner first, then the admins in the
   * order they were named, by @username and display name (never a phone number).
   */
  async admins(accountId: string, channelId: string): Promise<ChannelAdminView[]> {
    const channel = await this.requireAdmin(accountId, channelId);
    const named = await this.storage.channels.admins(channel.id);
    const accounts = new Map(
      (await this.storage.accounts.byIds([channel.ownerAccountId, ...named.map((a) => a.accountId)])).map(
        (a) => [a.id, a],
      ),
    );
    const people = [
      { accountId: channel.ownerAccountId, role: 'owner' as const, sinceMs: channel.createdAt },
      ...named.map((a) => ({ accountId: a.accountId, role: 'admin' as const, sinceMs: a.addedAt })),
    ];
    return people.flatMap((p) => {
      const account = accounts.get(p.accountId);
      return account ? [{ ...p, username: account.username, displayName: account.displayName }] : [];
    });
  }

  /**
   * What a live invite link leads to, before joining: the channel's title, name, subscriber count and
   * key. Nothing is subscribed or counted. Asking counts against the same per-account window as
   * subscribing, so tokens cannot be probed at speed; an unknown or revoked token is CHANNEL_INVITE_INVALID.
   */
  async previewInvite(accountId: string, token: string): Promise<ChannelInvitePreview> {
    await this.takeSubscriptionChange(accountId, 'channel-invite-preview');
    const channel = await this.channelOfInvite(token);
    const subscribed = await this.storage.channelSubscriptions.get(accountId, channel.id);
    const role = (await this.roleOf(this.storage, channel, accountId)) ?? (subscribed ? 'subscriber' : null);
    const { channelId, name, title, description, visibility, subscriberCount, publicKey, myRole } = this.view(
      channel,
      0,
      role,
    );
    const keyFingerprint = channelKeyFingerprint(channel.publicKey);
    return {
      channelId,
      name,
      title,
      description,
      visibility,
      subscriberCount,
      publicKey,
      keyFingerprint,
      myRole,
    };
  }

  /** The channel a live invite token admits to; CHANNEL_INVITE_INVALID for an unknown or revoked one. */
  private async channelOfInvite(token: string): Promise<ChannelRow> {
    const invite = await this.storage.channelInvites.byTokenHash(hashToken(token));
    if (!invite || invite.revokedAt !== null) throw new CourierError('CHANNEL_INVITE_INVALID');
    const channel = await this.storage.channels.byId(invite.channelId);
    if (!channel) throw new CourierError('CHANNEL_INVITE_INVALID');
    return channel;
  }

  /**
   * The owner names an admin (who is subscribed, if not yet, and must then get the channel key from
   * the owner's device, end to end, to sign posts) or takes the role back: from then on the server
   * refuses the account's posts, though its devices keep the shared key (a new key is a new channel).
   */
  async setAdmin(accountId: string, channelId: string, adminId: string, admin: boolean): Promise<void> {
    const channel = await this.storage.channels.byId(channelId);
    if (!channel) throw new CourierError('CHANNEL_NOT_FOUND');
    if (channel.ownerAccountId !== accountId) throw new CourierError('CHANNEL_NOT_OWNER');
    if (adminId === channel.ownerAccountId)
      throw new CourierError('CHANNEL_INVALID', { message: 'The owner is not named as an admin.' });
    if (!(await this.storage.accounts.byId(adminId))) throw new CourierError('ACCOUNT_NOT_FOUND');
    if (!admin) {
      await this.storage.channels.removeAdmin(channelId, adminId);
      return;
    }
    const now = this.deps.clock.now();
    const subscribed = await this.storage.transaction(async (stores) => {
      await stores.channels.addAdmin(channelId, adminId, now);
      const inserted = await stores.channelSubscriptions.insert({
        accountId: adminId,
        channelId,
        cursor: 0,
        subscribedAt: now,
      });
      if (inserted) await stores.channels.adjustSubscriberCount(channelId, 1);
      return inserted;
    });
    if (subscribed)
      await this.bus.publish({ type: 'channel_subscriptions_changed', channelId, accountIds: [adminId] });
  }

  /** Deletes a channel with its posts, subscriptions and invites (the owner only). */
  async deleteChannel(accountId: string, channelId: string): Promise<void> {
    const channel = await this.storage.channels.byId(channelId);
    if (!channel) throw new CourierError('CHANNEL_NOT_FOUND');
    if (channel.ownerAccountId !== accountId) throw new CourierError('CHANNEL_NOT_OWNER');
    const blobs = await this.storage.transaction(async (stores) => {
      const bound = await stores.channelMedia.byChannel(channelId);
      await stores.channelMedia.release(bound);
      await stores.channelPosts.deleteByChannel(channelId);
      await stores.channelSubscriptions.deleteByChannel(channelId);
      await stores.channelInvites.deleteByChannel(channelId);
      await stores.channels.delete(channelId);
      return bound;
    });
    // Its media goes with it (had this stopped here, retention removes the unbound records).
    await this.media?.removeBlobs(blobs);
    // No account list: every node drops the channel from whichever connections it has on it.
    await this.bus.publish({ type: 'channel_subscriptions_changed', channelId, accountIds: [] });
  }

  /**
   * Erasure (inside the account deletion's transaction): its subscriptions go (each channel's count
   * drops), channels it owns go with their posts, and it is forgotten as admin, author and inviter.
   * Returns the channels deleted (their subscribers' connections drop them).
   */
  static async eraseAccount(stores: Stores, accountId: string): Promise<string[]> {
    for (const s of await stores.channelSubscriptions.deleteByAccount(accountId))
      await stores.channels.adjustSubscriberCount(s.channelId, -1);
    const owned = await stores.channels.ownedBy(accountId);
    for (const channel of owned) {
      // The blobs' bytes went first (MediaService.eraseAccount); any left unbound, retention removes.
      await stores.channelMedia.release(await stores.channelMedia.byChannel(channel.id));
      await stores.channelPosts.deleteByChannel(channel.id);
      await stores.channelSubscriptions.deleteByChannel(channel.id);
      await stores.channelInvites.deleteByChannel(channel.id);
      await stores.channels.delete(channel.id);
    }
    await stores.channels.deleteAdminsByAccount(accountId);
    await stores.channelPosts.forgetAuthor(accountId);
    await stores.channelInvites.forgetCreator(accountId);
    return owned.map((c) => c.id);
  }

  /**
   * Binds the media a post's body carries to the post: each blob must be a finished upload to this
   * channel that no other post carries (CHANNEL_POST_INVALID otherwise). Returns the blob ids.
   */
  private async claimBlobs(
    stores: Stores,
    channelId: string,
    postId: string,
    body: Uint8Array,
  ): Promise<string[]> {
    const ids = blobsOfPost(body);
    for (const id of ids) {
      const record = await stores.mediaBlobs.byId(id);
      if (!record || record.completedAt === null || !(await stores.channelMedia.claim(channelId, id, postId)))
        throw new CourierError('CHANNEL_POST_INVALID', {
          message: "The post's file is not a finished upload to this channel (or another post carries it).",
        });
    }
    return ids;
  }

  /**
   * Counts one subscribe or unsubscribe of the account (tried ones too, so that names and invite
   * tokens cannot be probed at speed): CHANNEL_RATE_LIMITED past the window's limit. Invite previews
   * are counted the same way in a bucket of their own.
   */
  private async takeSubscriptionChange(accountId: string, bucket = 'channel-subscription'): Promise<void> {
    const { subscriptionChanges: max, subscriptionWindowMs: windowMs } = this.limits;
    const now = this.deps.clock.now();
    if (!(await this.storage.rateLimits.take(`${bucket}:${accountId}`, now, windowMs, max)))
      throw new CourierError('CHANNEL_RATE_LIMITED', {
        details: { retryAfterMs: windowMs },
      });
  }

  private async advance(subscription: ChannelSubscriptionRow, to: number): Promise<number> {
    let current = subscription;
    // A race with another read of the same account: re-read and try again from where it stands.
    for (let attempt = 0; attempt < 5 && to > current.cursor; attempt += 1) {
      const from = current.cursor;
      const moved = await this.storage.transaction(async (stores) => {
        if (!(await stores.channelSubscriptions.advance(current.accountId, current.channelId, from, to)))
          return false;
        await stores.channelPosts.countViews(current.channelId, from, to);
        return true;
      });
      if (moved) return to;
      const fresh = await this.storage.channelSubscriptions.get(current.accountId, current.channelId);
      if (!fresh) return from;
      current = fresh;
    }
    return current.cursor;
  }

  private checkedPost(
    channel: ChannelRow,
    body: ChannelPostBody,
  ): { postId: string; revision: number; deleted: boolean; body: Uint8Array; signature: Uint8Array } {
    const payload = decodeBase64(body.body);
    const signature = decodeBase64(body.signature);
    if (
      !CHANNEL_POST_ID_PATTERN.test(body.postId) ||
      !Number.isSafeInteger(body.revision) ||
      body.revision < 0 ||
      body.revision > 0xffff_ffff ||
      typeof body.deleted !== 'boolean' ||
      payload === undefined ||
      payload.length > MAX_CHANNEL_POST_BYTES ||
      (!body.deleted && payload.length === 0) ||
      signature?.length !== 64
    )
      throw new CourierError('CHANNEL_POST_INVALID');
    const fields = {
      channelId: channel.id,
      postId: body.postId,
      revision: body.revision,
      deleted: body.deleted,
      body: payload,
    };
    // Natively (OpenSSL, strict RFC 8032): see native-post-signature.ts for why that is safe.
    if (!verifyChannelPostNatively(channel.publicKey, fields, signature))
      throw new CourierError('CHANNEL_POST_BAD_SIGNATURE');
    return { ...fields, signature };
  }

  private async requireAdmin(accountId: string, channelId: string): Promise<ChannelRow> {
    const channel = await this.storage.channels.byId(channelId);
    if (!channel) throw new CourierError('CHANNEL_NOT_FOUND');
    if ((await this.roleOf(this.storage, channel, accountId)) === null) {
      const subscribed = await this.storage.channelSubscriptions.get(accountId, channelId);
      if (channel.visibility === 'private' && !subscribed) throw new CourierError('CHANNEL_NOT_FOUND');
      throw new CourierError('CHANNEL_NOT_ADMIN');
    }
    return channel;
  }

  private async roleOf(
    stores: Stores,
    channel: ChannelRow,
    accountId: string,
  ): Promise<'owner' | 'admin' | null> {
    if (channel.ownerAccountId === accountId) return 'owner';
    return (await stores.channels.isAdmin(channel.id, accountId)) ? 'admin' : null;
  }

  private async find(idOrName: string): Promise<ChannelRow> {
    const text = idOrName.trim();
    const channel =
      (isId('channel', text) ? await this.storage.channels.byId(text) : undefined) ??
      (await this.storage.channels.byName(normaliseChannelName(text)));
    if (!channel) throw new CourierError('CHANNEL_NOT_FOUND');
    return channel;
  }

  private view(channel: ChannelRow, cursor: number, role: ChannelView['myRole']): ChannelView {
    return {
      channelId: channel.id,
      name: channel.name,
      title: channel.title,
      description: channel.description,
      visibility: channel.visibility,
      publicKey: encodeBase64(channel.publicKey),
      createdAtMs: channel.createdAt,
      lastSeq: channel.lastSeq,
      subscriberCount: channel.subscriberCount,
      myRole: role,
      cursor,
      ...(role === 'owner' || role === 'admin' ? { ownerAccountId: channel.ownerAccountId } : {}),
    };
  }
}
