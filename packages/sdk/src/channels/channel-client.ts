import {
  type ChannelAdminView,
  type ChannelInvitePreview,
  type ChannelInviteView,
  type ChannelPostBody,
  type ChannelPostsPage,
  type ChannelPostView,
  type ChannelView,
  type EditChannelBody,
  type ChannelVisibility,
  CourierError,
  channelKeyFingerprint,
  channelPublicKeyOf,
  decodeBase64,
  encodeBase64,
  generateChannelKey,
  MAX_CHANNEL_POST_BYTES,
  type PushedChannelPost,
  signChannelPost,
  verifyChannelPost,
} from '@courier/protocol';
import type { ChannelKeyContent } from '../content/channel-key-content.ts';
import { type AnyContent, readContent, writeContent } from '../content/content-registry.ts';
import type { DecodedContent } from '../content/content-type.ts';
import type { CourierConnection } from '../connection.ts';
import { Emitter } from '../emitter.ts';
import type { CourierHttp } from '../http-client.ts';
import type { FileDescriptor } from '../media/file-descriptor.ts';
import {
  describeUpload,
  type MediaEndpoint,
  type UploadOptions,
  uploadEncryptedChannelFile,
} from '../media/media-transfer.ts';
import type { PlaintextSource } from '../media/plaintext-source.ts';
import type { SecureClient, SecureClientEvents } from '../mls/secure-client.ts';
import { type ChannelKeyring, handoverKey } from './channel-keyring.ts';

/**
 * A channel post as the subscriber's client judged it. `verified`: the channel key pinned on
 * subscribe signed exactly this revision; `rejected`: it did not (the server, or anyone between,
 * changed or made it up), and nothing of it is shown as the channel's.
 */
export type ChannelPost =
  | {
      kind: 'verified';
      channelId: string;
      postId: string;
      seq: number;
      revision: number;
      deleted: boolean;
      /** The content (text, file, a sticker once that type exists); absent for a deleted post. */
      content: DecodedContent<AnyContent> | undefined;
      createdAtMs: number;
      editedAtMs: number | null;
      views: number;
    }
  | {
      kind: 'rejected';
      channelId: string;
      postId: string;
      seq: number;
      reason: 'bad_signature' | 'malformed';
    };

export interface ChannelKeyChange {
  channelId: string;
  name: string;
  pinned: string;
  served: string;
}

/** A channel key handed over in a chat, as it arrived (SecureClient's `channel_key` event). */
export type ChannelKeyHandover = SecureClientEvents['channel_key'];

/**
 * What this device made of a handed-over channel key. `imported`: the sender is the channel's owner
 * (per the server), this account is the owner or an admin, and the key is the channel's (the one the
 * server shows and, if pinned, the pinned one); this device can now sign posts. `refused`: kept
 * nowhere, for the reason given.
 */
export type ChannelKeyOutcome =
  | { kind: 'imported'; channelId: string; name: string; fromAccountId: string }
  | {
      kind: 'refused';
      channelId: string;
      name: string;
      fromAccountId: string;
      reason: 'unknown_channel' | 'not_admin' | 'not_owner' | 'key_mismatch';
    };

export interface ChannelClientEvents extends Record<string, unknown> {
  /** A post (new, edited or deleted) read from a subscribed channel, in sequence order. */
  post: ChannelPost;
  /** The server shows a channel key other than the one pinned: posts are checked against the pinned key. */
  key_changed: ChannelKeyChange;
  /**
   * A live update could not be read (it is read again with the next signal or sync), or a
   * handed-over key could not be checked now (it is kept and checked again on reconnect).
   */
  problem: CourierError;
  /** A handed-over channel key was checked (see `followKeys`): imported, or refused and why. */
  key_handover: ChannelKeyOutcome;
}

const PAGE = 200;

/** The title of the chat of one account alone in which its channel keys reach its other devices. */
export const OWN_DEVICES_CHAT_TITLE = 'Channel keys (your devices)';
/**
 * A fresh post id. A caller that keeps it (with the post's `sentAtMs`) before posting can post again
 * after a lost reply or a restart: the same signed post is then stored once.
 */
export const newChannelPostId = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return encodeBase64(bytes).replaceAll('+', '-').replaceAll('/', '_');
};

/**
 * How a file is posted: the upload's options (progress, cancel, and `key`/`onStarted`/`resume` to go
 * on after a restart) and, to post it again without a second post, the post id and time kept before.
 */
export type ChannelFileOptions = UploadOptions & { postId?: string; sentAtMs?: number };

/**
 * Broadcast channels for one device: create, post, edit, delete (signing with the channel key),
 * subscribe and unsubscribe (pinning the channel key), invites, and reading posts from a cursor with
 * every post's signature checked. Channel posts are public, not end-to-end encrypted.
 */
export class ChannelClient extends Emitter<ChannelClientEvents> {
  private readonly syncing = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();

  constructor(
    private readonly http: CourierHttp,
    private readonly keyring: ChannelKeyring,
  ) {
    super();
  }

  /**
   * Creates a channel: its key pair is made here, and only the public key goes to the server. A
   * description (optional) is what the channel says of itself, shown on its page and in previews.
   */
  async create(
    name: string,
    title: string,
    visibility: ChannelVisibility,
    description = '',
  ): Promise<ChannelView> {
    const { secretKey, publicKey } = generateChannelKey();
    const view = await this.http.call<ChannelView>('POST', '/v1/channels', {
      name,
      title,
      visibility,
      publicKey: encodeBase64(publicKey),
      ...(description.trim() === '' ? {} : { description }),
    });
    this.keyring.setSecretKey(view.channelId, secretKey);
    this.keyring.pin(view.channelId, view.publicKey);
    this.keyring.setCursor(view.channelId, view.lastSeq);
    return view;
  }

  /** Takes a channel's secret key on an admin's device (handed over by the owner, e.g. in an E2E chat). */
  importSecretKey(channelId: string, secretKey: Uint8Array): void {
    const pinned = this.keyring.pinned(channelId);
    if (pinned !== undefined && pinned !== encodeBase64(channelPublicKeyOf(secretKey)))
      throw new CourierError('CHANNEL_INVALID', {
        message: 'This key is not the channel key pinned for the channel.',
      });
    this.keyring.setSecretKey(channelId, secretKey);
  }

  exportSecretKey(channelId: string): Uint8Array | undefined {
    return this.keyring.secretKey(channelId);
  }

  async list(): Promise<ChannelView[]> {
    const { channels } = await this.http.call<{ channels: ChannelView[] }>('GET', '/v1/channels');
    for (const channel of channels) this.checkKey(channel);
    return channels;
  }

  async show(channel: string): Promise<ChannelView> {
    const view = await this.http.call<ChannelView>('GET', `/v1/channels/${encodeURIComponent(channel)}`);
    this.checkKey(view);
    return view;
  }

  /** Subscribes by @name (public) or invite token; the channel key is pinned on the first subscribe. */
  async subscribe(by: { name: string } | { invite: string }): Promise<ChannelView> {
    const view = await this.http.call<ChannelView>('POST', '/v1/channels/subscriptions', by);
    this.checkKey(view);
    return view;
  }

  /**
   * What an invite link leads to, before joining: title, @name, subscriber count and key (nothing
   * is subscribed, pinned or counted). `keyFingerprint` is computed here from the key the server
   * shows, the key joining would pin. An unknown or revoked token is CHANNEL_INVITE_INVALID.
   */
  async previewInvite(token: string): Promise<ChannelInvitePreview> {
    const preview = await this.http.call<ChannelInvitePreview>('POST', '/v1/channels/previews', {
      invite: token,
    });
    return { ...preview, keyFingerprint: channelKeyText(preview.publicKey) };
  }

  /** The channel's owner and admins, by @username and display name (the owner's and admins' devices only). */
  async admins(channelId: string): Promise<ChannelAdminView[]> {
    const { admins } = await this.http.call<{ admins: ChannelAdminView[] }>(
      'GET',
      `/v1/channels/${encodeURIComponent(channelId)}/admins`,
    );
    return admins;
  }

  /** Deletes a channel (the owner only): its posts, their media, subscriptions and invites go. */
  /**
   * The owner or an admin sets the channel's title, description, or both (a field left out stays;
   * a description of '' clears it). Subscribers see it on their next read of the channel.
   */
  async editInfo(channelId: string, info: EditChannelBody): Promise<ChannelView> {
    const view = await this.http.call<ChannelView>(
      'PATCH',
      `/v1/channels/${encodeURIComponent(channelId)}`,
      info,
    );
    this.checkKey(view);
    return view;
  }

  async deleteChannel(channelId: string): Promise<void> {
    await this.http.call('DELETE', `/v1/channels/${encodeURIComponent(channelId)}`);
    this.keyring.forget(channelId);
  }

  async unsubscribe(channelId: string): Promise<void> {
    await this.http.call('DELETE', `/v1/channels/${encodeURIComponent(channelId)}/subscription`);
    this.keyring.forget(channelId);
  }

  /** Accepts the key the server now shows for a channel (after the person checked it with the channel). */
  acceptKey(channelId: string, publicKey: string): void {
    this.keyring.pin(channelId, publicKey);
  }

  /**
   * Posts content to a channel this device holds the key of. Given the `postId` of an earlier try
   * with the same content, the server answers the post it stored then (no second post).
   */
  async post(channelId: string, content: AnyContent, postId = newChannelPostId()): Promise<ChannelPostView> {
    const body = writeContent(content);
    return this.http.call<ChannelPostView>(
      'POST',
      `/v1/channels/${encodeURIComponent(channelId)}/posts`,
      this.signed(channelId, postId, 0, false, body),
    );
  }

  /**
   * Posts a photo, video or any file: encrypted with a fresh key and uploaded to the channel (only
   * its owner and admins may), then posted as a `file` content, the same encoding as a chat's file
   * message, so the post's signature covers the blob id, key and digest. Subscribers fetch and
   * decrypt it with `downloadDecryptedFile(endpoint, channelFileOf(post))`.
   *
   * After a restart it goes on as a chat's upload does (`uploadEncryptedFile`): keep the `key` (or
   * what `onStarted` gives), the `postId` and `sentAtMs`, and call again with the same source, `resume`
   * and those: the upload continues from the server's offset and the post is made once.
   */
  async postFile(
    endpoint: MediaEndpoint,
    channelId: string,
    source: PlaintextSource,
    describe: { name: string; mime: string } & Partial<
      Pick<FileDescriptor, 'width' | 'height' | 'durationMs' | 'preview'>
    >,
    options: ChannelFileOptions = {},
  ): Promise<ChannelPostView & { file: FileDescriptor }> {
    this.requireKey(channelId);
    const { postId = newChannelPostId(), sentAtMs = Date.now(), ...upload } = options;
    const uploaded = await uploadEncryptedChannelFile(endpoint, channelId, source, upload);
    const { name, mime, ...extra } = describe;
    let file: FileDescriptor = { ...describeUpload(uploaded, name, mime), ...extra };
    // A post is at most MAX_CHANNEL_POST_BYTES: a preview that does not fit is left out.
    if (
      file.preview &&
      writeContent({ v: 1, type: 'file', file, sentAtMs }).length > MAX_CHANNEL_POST_BYTES
    ) {
      const { preview: _dropped, ...rest } = file;
      file = rest;
    }
    const view = await this.post(channelId, { v: 1, type: 'file', file, sentAtMs }, postId);
    return { ...view, file };
  }

  /** Replaces a post's content with a new revision (after `revision`, the newest one seen). */
  async edit(
    channelId: string,
    postId: string,
    revision: number,
    content: AnyContent,
  ): Promise<ChannelPostView> {
    return this.revise(
      channelId,
      postId,
      this.signed(channelId, postId, revision + 1, false, writeContent(content)),
    );
  }

  async delete(channelId: string, postId: string, revision: number): Promise<ChannelPostView> {
    return this.revise(
      channelId,
      postId,
      this.signed(channelId, postId, revision + 1, true, new Uint8Array()),
    );
  }

  async createInvite(channelId: string): Promise<ChannelInviteView & { token: string }> {
    return this.http.call('POST', `/v1/channels/${encodeURIComponent(channelId)}/invites`);
  }

  async invites(channelId: string): Promise<ChannelInviteView[]> {
    const { invites } = await this.http.call<{ invites: ChannelInviteView[] }>(
      'GET',
      `/v1/channels/${encodeURIComponent(channelId)}/invites`,
    );
    return invites;
  }

  async revokeInvite(channelId: string, inviteId: string): Promise<void> {
    await this.http.call(
      'DELETE',
      `/v1/channels/${encodeURIComponent(channelId)}/invites/${encodeURIComponent(inviteId)}`,
    );
  }

  /**
   * Names an admin (the owner's device only) and hands them the channel key end to end: in the
   * direct chat with them (opened, and its encryption group made, if new), which every device of
   * theirs and every other device of the owner is in. Their clients import it (`followKeys`).
   */
  async addAdmin(secure: SecureClient, channelId: string, accountId: string): Promise<{ groupId: string }> {
    this.requireKey(channelId);
    await this.setAdmin(channelId, accountId, true);
    return this.handOverKey(secure, channelId, accountId);
  }

  /**
   * Takes the admin role back: the server refuses their posts from now on. Their devices keep the
   * shared key (it cannot be taken back); a channel that needs a new key is a new channel.
   */
  async removeAdmin(channelId: string, accountId: string): Promise<void> {
    await this.setAdmin(channelId, accountId, false);
  }

  /**
   * Sends the channel key (again) to an admin's devices, and so to the owner's other devices, in
   * the direct chat with them: for a device an admin added since, or one that missed it. Given the
   * owner's own account, it goes to the owner's other devices only, in a chat of the owner alone
   * (`OWN_DEVICES_CHAT_TITLE`, made on first use). Devices signed in since the chat was made are
   * added to its encryption group first, so they get the key too.
   */
  async handOverKey(
    secure: SecureClient,
    channelId: string,
    accountId: string,
  ): Promise<{ groupId: string }> {
    const secretKey = this.requireKey(channelId);
    const view = await this.show(channelId);
    if (view.myRole !== 'owner')
      throw new CourierError('CHANNEL_NOT_OWNER', {
        message: 'Only the owner hands the channel key to admins.',
      });
    const publicKey = encodeBase64(channelPublicKeyOf(secretKey));
    if (publicKey !== view.publicKey)
      throw new CourierError('CHANNEL_INVALID', {
        message: 'The key this device holds is not the channel key the server shows.',
      });
    const chat =
      accountId === secure.accountId ? await this.ownDevicesChat(secure) : await secure.openDirect(accountId);
    await secure.reconcile(chat.groupId);
    const content: ChannelKeyContent = {
      v: 1,
      type: 'channel-key',
      channelId,
      name: view.name,
      publicKey,
      secretKey: encodeBase64(secretKey),
      sentAtMs: Date.now(),
    };
    await secure.sendChannelKey(chat.groupId, content);
    return { groupId: chat.groupId };
  }

  /** Sends the channel key to this account's other devices (`handOverKey` to oneself). */
  shareWithOwnDevices(secure: SecureClient, channelId: string): Promise<{ groupId: string }> {
    return this.handOverKey(secure, channelId, secure.accountId);
  }

  /** The chat of this account alone that carries channel keys to its other devices. */
  private async ownDevicesChat(secure: SecureClient): Promise<{ groupId: string }> {
    const found = (await secure.chats()).find(
      (c) =>
        c.kind === 'group' &&
        c.memberCount === 1 &&
        c.myRole === 'owner' &&
        c.title === OWN_DEVICES_CHAT_TITLE,
    );
    return found ?? (await secure.createGroup(OWN_DEVICES_CHAT_TITLE, []));
  }

  /**
   * Checks a handed-over channel key and keeps it only when the sender is the channel's owner as
   * the server says, this account is the owner or an admin, and the key is the channel's: its public
   * half is the one the server shows and the one pinned here (if any). Anything else is refused, and
   * nothing is kept. Throws only when the server cannot be asked (the owner can send it again).
   */
  async receiveKey(handover: ChannelKeyHandover): Promise<ChannelKeyOutcome> {
    const { channelId, name, publicKey, secretKey } = handover.content;
    const base = { channelId, name, fromAccountId: handover.senderAccountId };
    let view: ChannelView;
    try {
      view = await this.http.call<ChannelView>('GET', `/v1/channels/${encodeURIComponent(channelId)}`);
    } catch (error) {
      if (error instanceof CourierError && error.code === 'CHANNEL_NOT_FOUND')
        return { kind: 'refused', ...base, reason: 'unknown_channel' };
      throw error;
    }
    if (view.myRole !== 'owner' && view.myRole !== 'admin')
      return { kind: 'refused', ...base, reason: 'not_admin' };
    if (view.ownerAccountId === undefined || view.ownerAccountId !== handover.senderAccountId)
      return { kind: 'refused', ...base, reason: 'not_owner' };
    const secret = decodeBase64(secretKey);
    const pinned = this.keyring.pinned(channelId);
    if (
      secret?.length !== 32 ||
      encodeBase64(channelPublicKeyOf(secret)) !== publicKey ||
      publicKey !== view.publicKey ||
      (pinned !== undefined && pinned !== publicKey)
    )
      return { kind: 'refused', ...base, reason: 'key_mismatch' };
    if (pinned === undefined) this.keyring.pin(channelId, publicKey);
    this.keyring.setSecretKey(channelId, secret);
    return { kind: 'imported', ...base, name: view.name };
  }

  /**
   * Imports channel keys handed over to this device as they arrive in its chats (`receiveKey`) and
   * reports each (`key_handover`). A handover is kept in the keyring (durably, on a device that
   * keeps its keyring) before it is checked, and dropped once the server answered the check, so one
   * that arrives while the server cannot be asked is not lost: it is reported once as a `problem`,
   * stays held, and is checked again whenever the connection is ready again (and at once, for any
   * held from an earlier run), then imported or refused. Returns a function that stops following.
   */
  followKeys(secure: Pick<SecureClient, 'on'>): () => void {
    const offKey = secure.on('channel_key', (handover) => {
      this.keyring.holdHandover(handover);
      void this.checkHeld(handover, true);
    });
    const offState = secure.on('state', (state) => {
      if (state === 'ready') void this.retryHeldKeys();
    });
    void this.retryHeldKeys();
    return () => {
      offKey();
      offState();
    };
  }

  /** Checks every held handover again; each the server answered is reported and no longer held. */
  async retryHeldKeys(): Promise<void> {
    for (const handover of this.keyring.heldHandovers()) await this.checkHeld(handover, false);
  }

  /** Keys of the handovers being checked now (a reconnect during a check does not check twice). */
  private readonly checking = new Set<string>();

  private async checkHeld(handover: ChannelKeyHandover, reportFailure: boolean): Promise<void> {
    const key = handoverKey(handover);
    if (this.checking.has(key)) return;
    this.checking.add(key);
    try {
      const outcome = await this.receiveKey(handover);
      this.keyring.dropHandover(handover.groupId, handover.seq);
      this.emit('key_handover', outcome);
    } catch (error) {
      if (reportFailure)
        this.emit(
          'problem',
          error instanceof CourierError ? error : new CourierError('SERVER_UNAVAILABLE', { cause: error }),
        );
    } finally {
      this.checking.delete(key);
    }
  }

  async setAdmin(channelId: string, accountId: string, admin: boolean): Promise<void> {
    await this.http.call(
      admin ? 'PUT' : 'DELETE',
      `/v1/channels/${encodeURIComponent(channelId)}/admins/${encodeURIComponent(accountId)}`,
    );
  }

  /** One page of posts after `after`, each checked against the pinned key (the cursor is not moved here). */
  async posts(
    channelId: string,
    after: number,
    limit = PAGE,
  ): Promise<{ posts: ChannelPost[]; lastSeq: number }> {
    const page = await this.http.call<ChannelPostsPage>(
      'GET',
      `/v1/channels/${encodeURIComponent(channelId)}/posts?after=${after}&limit=${limit}`,
    );
    const key = await this.keyFor(channelId);
    return { posts: page.posts.map((p) => this.judge(channelId, key, p)), lastSeq: page.lastSeq };
  }

  /**
   * Reads every post after this device's cursor, page by page, emits each (`post`), and moves the
   * cursor; the server's cursor follows (reading after N says "I have up to N"), and a final mark
   * tells it the last page was read. Concurrent calls for one channel run once more, never twice at once.
   */
  sync(channelId: string): Promise<void> {
    const running = this.syncing.get(channelId);
    if (running) {
      this.again.add(channelId);
      return running;
    }
    const run = (async () => {
      try {
        do {
          this.again.delete(channelId);
          await this.readAll(channelId);
        } while (this.again.has(channelId));
      } finally {
        this.syncing.delete(channelId);
      }
    })();
    this.syncing.set(channelId, run);
    return run;
  }

  /**
   * Takes the posts the connection pushes: a post carried in its frame that is the next one after
   * this device's cursor is checked against the pinned key (exactly as one read over HTTP), emitted,
   * and acknowledged over the socket (`channel_read`, coalesced); a gap (a missed or vacated
   * sequence number, a reconnect), a large post sent as a signal only, or a channel with no pinned
   * key yet is read from the cursor over HTTP. Each post is emitted once, in sequence order.
   */
  attach(connection: CourierConnection): () => void {
    const fail = (error: unknown) =>
      this.emit(
        'problem',
        error instanceof CourierError ? error : new CourierError('SERVER_UNAVAILABLE', { cause: error }),
      );
    const offPosted = connection.on('channel_posted', ({ channelId, seq, post }) => {
      if (seq <= this.keyring.cursor(channelId)) return;
      if (post && this.takePushed(channelId, post)) connection.markChannelRead(channelId, post.seq);
      else this.sync(channelId).catch(fail);
    });
    return offPosted;
  }

  /** A pushed post, taken if it is the very next one and the channel's key is pinned; false: read over HTTP. */
  private takePushed(channelId: string, post: PushedChannelPost): boolean {
    const pinned = this.keyring.pinned(channelId);
    const key = pinned === undefined ? undefined : decodeBase64(pinned);
    if (key?.length !== 32 || post.seq !== this.keyring.cursor(channelId) + 1) return false;
    this.emit('post', this.judgeBytes(channelId, key, post));
    this.keyring.setCursor(channelId, post.seq);
    return true;
  }

  private async readAll(channelId: string): Promise<void> {
    const key = await this.keyFor(channelId);
    for (;;) {
      const after = this.keyring.cursor(channelId);
      const page = await this.http.call<ChannelPostsPage>(
        'GET',
        `/v1/channels/${encodeURIComponent(channelId)}/posts?after=${after}&limit=${PAGE}`,
      );
      for (const view of page.posts) {
        // A post pushed while the page was on its way was taken already.
        if (view.seq <= this.keyring.cursor(channelId)) continue;
        this.emit('post', this.judge(channelId, key, view));
        this.keyring.setCursor(channelId, view.seq);
      }
      if (page.posts.length === 0 || this.keyring.cursor(channelId) >= page.lastSeq) break;
    }
    await this.http.call('POST', `/v1/channels/${encodeURIComponent(channelId)}/read`, {
      seq: this.keyring.cursor(channelId),
    });
  }

  private async revise(channelId: string, postId: string, body: ChannelPostBody): Promise<ChannelPostView> {
    return this.http.call<ChannelPostView>(
      'PUT',
      `/v1/channels/${encodeURIComponent(channelId)}/posts/${encodeURIComponent(postId)}`,
      body,
    );
  }

  private requireKey(channelId: string): Uint8Array {
    const secretKey = this.keyring.secretKey(channelId);
    if (!secretKey)
      throw new CourierError('CHANNEL_NOT_ADMIN', {
        message:
          'This device does not hold the channel key: only the owner and admins it was given to can post.',
      });
    return secretKey;
  }

  private signed(
    channelId: string,
    postId: string,
    revision: number,
    deleted: boolean,
    body: Uint8Array,
  ): ChannelPostBody {
    const secretKey = this.requireKey(channelId);
    const signature = signChannelPost(secretKey, { channelId, postId, revision, deleted, body });
    return { postId, revision, deleted, body: encodeBase64(body), signature: encodeBase64(signature) };
  }

  /** The pinned key of a channel (pinning the served one if none was pinned yet). */
  private async keyFor(channelId: string): Promise<Uint8Array> {
    let pinned = this.keyring.pinned(channelId);
    if (pinned === undefined) {
      const view = await this.show(channelId);
      pinned = this.keyring.pinned(channelId) ?? view.publicKey;
    }
    const key = decodeBase64(pinned);
    if (key?.length !== 32)
      throw new CourierError('CHANNEL_INVALID', { message: 'The pinned channel key is damaged.' });
    return key;
  }

  private checkKey(view: ChannelView): void {
    const pinned = this.keyring.pinned(view.channelId);
    if (pinned === undefined) {
      this.keyring.pin(view.channelId, view.publicKey);
    } else if (pinned !== view.publicKey) {
      this.emit('key_changed', {
        channelId: view.channelId,
        name: view.name,
        pinned,
        served: view.publicKey,
      });
    }
  }

  private judge(channelId: string, key: Uint8Array, view: ChannelPostView): ChannelPost {
    const body = decodeBase64(view.body);
    const signature = decodeBase64(view.signature);
    if (body === undefined || signature === undefined)
      return { kind: 'rejected', channelId, postId: view.postId, seq: view.seq, reason: 'malformed' };
    return this.judgeBytes(channelId, key, { ...view, body, signature });
  }

  /** The one check of a post, read over HTTP or pushed: the pinned key signed exactly this revision. */
  private judgeBytes(channelId: string, key: Uint8Array, post: PushedChannelPost): ChannelPost {
    const { body, signature } = post;
    const base = { channelId, postId: post.postId, seq: post.seq };
    if (post.deleted && body.length > 0) return { kind: 'rejected', ...base, reason: 'malformed' };
    const fields = { channelId, postId: post.postId, revision: post.revision, deleted: post.deleted, body };
    if (!verifyChannelPost(key, fields, signature))
      return { kind: 'rejected', ...base, reason: 'bad_signature' };
    return {
      kind: 'verified',
      ...base,
      revision: post.revision,
      deleted: post.deleted,
      content: post.deleted ? undefined : readContent(body),
      createdAtMs: post.createdAtMs,
      editedAtMs: post.editedAtMs,
      views: post.views,
    };
  }
}

/** The file a verified post carries (to show and to download), or undefined. */
export function channelFileOf(post: ChannelPost): FileDescriptor | undefined {
  if (post.kind !== 'verified' || post.content?.kind !== 'known') return undefined;
  const content = post.content.content;
  return content.type === 'file' ? content.file : undefined;
}

/** What a person compares to check a channel key (base64 in, groups of hex out). */
export function channelKeyText(publicKey: string): string {
  const key = decodeBase64(publicKey);
  return key ? channelKeyFingerprint(key) : '(damaged key)';
}
