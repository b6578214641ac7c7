import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Readable, Transform } from 'node:stream';
import {
  CourierError,
  isId,
  MEDIA_CHANNEL_METADATA_KEY,
  MEDIA_GROUP_METADATA_KEY,
  MEDIA_UPLOAD_PATH,
  mediaCiphertextSize,
  mediaPlaintextSize,
} from '@courier/protocol';
import { Server } from '@tus/server';
import { EVENTS, type Upload } from '@tus/utils';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Clock } from '../deps.ts';
import type { Principal } from '../services/auth-service.ts';
import type { MediaBlobRow, MediaGrantRow, Storage } from '../storage/ports.ts';
import { parseRange } from './byte-range.ts';
import type { BlobStore } from './ports.ts';

type TusRequest = Parameters<NonNullable<ConstructorParameters<typeof Server>[0]['onIncomingRequest']>>[0];

/** What a download answers: status, headers and the bytes as a stream. */
export interface BlobReply {
  status: 200 | 206;
  headers: Record<string, string>;
  body: Readable;
}

export interface MediaCleanupReport {
  /** Uploads never finished within `media.incompleteUploadTtlMs`. */
  incompleteUploads: number;
  /** Blobs no retained message can point at any more. */
  unreferencedBlobs: number;
}

const BLOB_ID = /^[a-f0-9]{32}$/;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** tus errors (status and text body) as catalog codes. */
function typedTusError(error: { status_code: number; body: string }): CourierError {
  switch (error.status_code) {
    case 404:
    case 410:
      return new CourierError('MEDIA_UPLOAD_NOT_FOUND');
    case 409:
      return new CourierError('MEDIA_OFFSET_MISMATCH');
    case 413:
      return new CourierError('MEDIA_TOO_LARGE');
    case 423:
      return new CourierError('SERVER_UNAVAILABLE', { message: 'The upload is busy; retry.' });
    default:
      return error.status_code >= 500
        ? new CourierError('INTERNAL')
        : new CourierError('REQ_INVALID', { message: error.body.trim() });
  }
}

/**
 * Media uploads and downloads (issue 14). Uploads are tus (`@tus/server`) into the blob store, each
 * bound at creation to one chat the uploader is in; only the uploader continues it. A finished blob
 * is served in byte ranges to current members of that chat only: its id alone opens nothing. The
 * server holds ciphertext and who uploaded it where and when; the key, name and type travel inside
 * the MLS message.
 */
export class MediaService {
  readonly tus: Server;
  private readonly principals = new WeakMap<IncomingMessage, Principal>();

  constructor(
    private readonly storage: Storage,
    readonly blobs: BlobStore,
    private readonly config: Config['media'],
    private readonly clock: Clock,
    private readonly random: (bytes: number) => Uint8Array,
    private readonly logger: Logger,
  ) {
    this.tus = new Server({
      path: MEDIA_UPLOAD_PATH,
      datastore: blobs.uploads,
      relativeLocation: true,
      // A finished blob may already be in members' messages: only retention and erasure remove it.
      disableTerminationForFinishedUploads: true,
      maxSize: mediaCiphertextSize(config.maxFileBytes),
      namingFunction: () => hex(this.random(16)),
      onIncomingRequest: (req, uploadId) => this.admit(req, uploadId),
      onUploadCreate: async (req, upload) => {
        await this.create(req, upload);
        return {};
      },
      onUploadFinish: async (_req, upload) => {
        await this.storage.mediaBlobs.markComplete(upload.id, this.clock.now());
        return {};
      },
      onResponseError: (_req, error) => {
        let typed: CourierError;
        if (error instanceof CourierError) typed = error;
        else if ('status_code' in error) typed = typedTusError(error);
        else typed = new CourierError('INTERNAL', { cause: error });
        if (typed.status >= 500) this.logger.error({ err: error }, 'media upload failed');
        return { status_code: typed.status, body: JSON.stringify(typed.toEnvelope()) };
      },
    });
    // An upload its uploader abandoned (tus DELETE): its bytes are gone, so is its record (and quota).
    this.tus.on(EVENTS.POST_TERMINATE, (_req, _res, id: string) => {
      this.storage.mediaBlobs
        .delete([id])
        .catch((error: unknown) => this.logger.error({ err: error }, 'media upload record not deleted'));
    });
  }

  /** Serves one tus request (POST, HEAD, PATCH, DELETE) of an authenticated device. */
  async handleUpload(principal: Principal, req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.principals.set(req, principal);
    await this.tus.handle(req, res);
  }

  private principalOf(req: TusRequest): Principal {
    const raw = (req as { runtime?: { node?: { req?: IncomingMessage } } }).runtime?.node?.req;
    const principal = raw ? this.principals.get(raw) : undefined;
    if (!principal) throw new CourierError('AUTH_REQUIRED');
    return principal;
  }

  /**
   * Every request but a creation continues an upload: only its uploader, still in its chat (or
   * still an admin of its channel), may.
   */
  private async admit(req: TusRequest, uploadId: string): Promise<void> {
    const principal = this.principalOf(req);
    if (req.method === 'POST' || req.method === 'OPTIONS') return;
    const row = BLOB_ID.test(uploadId) ? await this.storage.mediaBlobs.byId(uploadId) : undefined;
    if (!row || row.uploaderAccountId !== principal.accountId)
      throw new CourierError('MEDIA_UPLOAD_NOT_FOUND');
    if (isId('channel', row.groupId)) {
      await this.requireChannelAdmin(row.groupId, principal.accountId);
      return;
    }
    if (!(await this.storage.groups.isMember(row.groupId, principal.accountId)))
      throw new CourierError('GROUP_NOT_FOUND');
  }

  /** Uploads to a channel are its owner's and admins' (a private channel is not there for others). */
  private async requireChannelAdmin(channelId: string, accountId: string): Promise<void> {
    const channel = await this.storage.channels.byId(channelId);
    if (!channel) throw new CourierError('CHANNEL_NOT_FOUND');
    if (channel.ownerAccountId === accountId || (await this.storage.channels.isAdmin(channelId, accountId)))
      return;
    if (
      channel.visibility === 'private' &&
      !(await this.storage.channelSubscriptions.get(accountId, channelId))
    )
      throw new CourierError('CHANNEL_NOT_FOUND');
    throw new CourierError('CHANNEL_NOT_ADMIN');
  }

  /**
   * Who may fetch a channel's blob: once a post carries it, anyone signed in for a public channel,
   * subscribers, the owner and admins for a private one; before that, the owner and admins only.
   */
  private async mayReadChannelBlob(blobId: string, accountId: string): Promise<boolean> {
    const binding = await this.storage.channelMedia.byBlob(blobId);
    if (!binding) return false;
    const channel = await this.storage.channels.byId(binding.channelId);
    if (!channel) return false;
    const admin =
      channel.ownerAccountId === accountId || (await this.storage.channels.isAdmin(channel.id, accountId));
    if (admin) return true;
    if (binding.postId === null) return false;
    if (channel.visibility === 'public') return true;
    return (await this.storage.channelSubscriptions.get(accountId, channel.id)) !== undefined;
  }

  private async create(req: TusRequest, upload: Upload): Promise<void> {
    const principal = this.principalOf(req);
    const size = upload.size;
    if (size === undefined || mediaPlaintextSize(size) === undefined)
      throw new CourierError('MEDIA_LENGTH_INVALID');
    if (size > mediaCiphertextSize(this.config.maxFileBytes))
      throw new CourierError('MEDIA_TOO_LARGE', { details: { maxFileBytes: this.config.maxFileBytes } });
    const channelId = upload.metadata?.[MEDIA_CHANNEL_METADATA_KEY];
    const groupId = channelId ?? upload.metadata?.[MEDIA_GROUP_METADATA_KEY];
    if (typeof groupId !== 'string' || groupId.length === 0 || groupId.length > 64)
      throw new CourierError('REQ_INVALID', {
        message: `An upload names its chat (metadata ${MEDIA_GROUP_METADATA_KEY}) or channel (${MEDIA_CHANNEL_METADATA_KEY}).`,
      });
    const forChannel = typeof channelId === 'string';
    if (forChannel) {
      if (!isId('channel', channelId)) throw new CourierError('CHANNEL_NOT_FOUND');
      await this.requireChannelAdmin(channelId, principal.accountId);
    } else if (!(await this.storage.groups.isMember(groupId, principal.accountId)))
      throw new CourierError('GROUP_NOT_FOUND');
    const used = await this.storage.mediaBlobs.bytesOfAccount(principal.accountId);
    if (used + size > this.config.quotaBytesPerAccount)
      throw new CourierError('MEDIA_QUOTA_EXCEEDED', {
        details: { quotaBytes: this.config.quotaBytesPerAccount, usedBytes: used },
      });
    const now = this.clock.now();
    const admitted = await this.storage.rateLimits.take(
      `media-upload:${principal.accountId}`,
      now,
      this.config.uploadWindowMs,
      this.config.uploadsPerWindow,
    );
    if (!admitted) throw new CourierError('MEDIA_RATE_LIMITED');
    // Only the chat (or channel) id was in the metadata; nothing about the file is kept.
    upload.metadata = { [forChannel ? MEDIA_CHANNEL_METADATA_KEY : MEDIA_GROUP_METADATA_KEY]: groupId };
    const record = {
      id: upload.id,
      // A channel's blob records the channel's id here (its `c_` prefix tells it from a chat's).
      groupId,
      uploaderAccountId: principal.accountId,
      size,
      createdAt: now,
      completedAt: null,
    };
    if (!forChannel) {
      await this.storage.mediaBlobs.insert(record);
      return;
    }
    await this.storage.transaction(async (stores) => {
      await stores.mediaBlobs.insert(record);
      await stores.channelMedia.bind({ blobId: upload.id, channelId: groupId, postId: null, boundAt: now });
    });
  }

  /**
   * A finished blob's bytes, or the range asked for, for a current member of its chat; anyone else
   * (and any id that is not a finished blob) gets MEDIA_NOT_FOUND, the same answer.
   */
  async download(principal: Principal, blobId: string, rangeHeader: string | undefined): Promise<BlobReply> {
    const row = await this.readable(principal, blobId);
    const range = parseRange(rangeHeader, row.size);
    if (range.kind === 'unsatisfiable')
      throw new CourierError('MEDIA_RANGE_INVALID', { details: { size: row.size } });
    const { start, end } = range.kind === 'range' ? range : { start: 0, end: row.size - 1 };
    const stored = await this.blobs.read(blobId, start, end).catch((cause: unknown) => {
      throw new CourierError('MEDIA_NOT_FOUND', { cause });
    });
    const body = exactly(stored, end - start + 1, () =>
      this.logger.error({ blobId }, 'media blob is shorter than its record'),
    );
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(end - start + 1),
      'accept-ranges': 'bytes',
      'cache-control': 'private, no-store',
    };
    if (range.kind === 'range') headers['content-range'] = `bytes ${start}-${end}/${row.size}`;
    return { status: range.kind === 'range' ? 206 : 200, headers, body };
  }

  /**
   * A finished blob the caller may read: a current member of a chat it is bound to (the chat it was
   * uploaded to, or one it was forwarded to). Anything else is MEDIA_NOT_FOUND, the same answer.
   */
  private async readable(principal: Principal, blobId: string): Promise<MediaBlobRow> {
    const row = BLOB_ID.test(blobId) ? await this.storage.mediaBlobs.byId(blobId) : undefined;
    if (!row || row.completedAt === null) throw new CourierError('MEDIA_NOT_FOUND');
    if (isId('channel', row.groupId)) {
      if (await this.mayReadChannelBlob(blobId, principal.accountId)) return row;
      throw new CourierError('MEDIA_NOT_FOUND');
    }
    if (await this.storage.groups.isMember(row.groupId, principal.accountId)) return row;
    for (const grant of await this.storage.mediaBlobs.grantsOf(blobId))
      if (await this.storage.groups.isMember(grant.groupId, principal.accountId)) return row;
    throw new CourierError('MEDIA_NOT_FOUND');
  }

  /**
   * Forward (issue 14): binds a finished blob to a further chat, so that the members of that chat can
   * fetch it from the message the caller forwards there, with no second copy of the ciphertext. The
   * caller must be a member of a chat the blob is bound to (else MEDIA_NOT_FOUND, as for a download)
   * and of the target chat (else GROUP_NOT_FOUND). Binding a chat it is bound to already is no change.
   */
  async grant(principal: Principal, blobId: string, chatId: string): Promise<{ granted: boolean }> {
    const row = await this.readable(principal, blobId);
    if (!(await this.storage.groups.isMember(chatId, principal.accountId)))
      throw new CourierError('GROUP_NOT_FOUND');
    if (chatId === row.groupId) return { granted: false };
    const granted = await this.storage.mediaBlobs.grant({
      blobId,
      groupId: chatId,
      grantedByAccountId: principal.accountId,
      grantedAt: this.clock.now(),
    });
    return { granted };
  }

  /** The blob records of an account, for its data export. */
  blobsOf(accountId: string): Promise<MediaBlobRow[]> {
    return this.storage.mediaBlobs.byAccount(accountId);
  }

  /** The blobs an account bound to further chats (forwards), for its data export. */
  grantsOf(accountId: string): Promise<MediaGrantRow[]> {
    return this.storage.mediaBlobs.grantsBy(accountId);
  }

  /**
   * Erasure: the blobs an account uploaded go with it (bytes first, then records), finished or not.
   * Members who had not downloaded them yet find them gone (MEDIA_NOT_FOUND).
   */
  async eraseAccount(accountId: string): Promise<number> {
    const rows = await this.storage.mediaBlobs.byAccount(accountId);
    await this.removeBlobs(rows.map((r) => r.id));
    // Its forwards of other people's blobs go too: the blob stays for the chats it was bound to before.
    await this.storage.mediaBlobs.deleteGrantsBy(accountId);
    // The channels it owns go with it (channel-service.ts), and so does every blob posted in them.
    let channelBlobs = 0;
    for (const channel of await this.storage.channels.ownedBy(accountId)) {
      const ids = await this.storage.channelMedia.byChannel(channel.id);
      await this.removeBlobs(ids);
      channelBlobs += ids.length;
    }
    return rows.length + channelBlobs;
  }

  /**
   * Retention: unfinished uploads past `incompleteUploadTtlMs`, and finished blobs past `blobTtlMs`
   * such that no chat they are bound to (their own from the upload on, a forward's from its grant on)
   * still holds an entry in its log (pruned by TTL or because every member device has it, the chat
   * gone, or its members erased).
   */
  async cleanup(): Promise<MediaCleanupReport> {
    const now = this.clock.now();
    const incomplete = await this.storage.mediaBlobs.incompleteBefore(
      now - this.config.incompleteUploadTtlMs,
    );
    await this.removeBlobs(incomplete);
    const unreferenced = await this.storage.mediaBlobs.unreferencedBefore(now - this.config.blobTtlMs);
    await this.removeBlobs(unreferenced);
    // Uploaded to a channel and never carried by a post.
    const unclaimed = await this.storage.channelMedia.unclaimedBefore(now - this.config.blobTtlMs);
    await this.removeBlobs(unclaimed);
    return {
      incompleteUploads: incomplete.length,
      unreferencedBlobs: unreferenced.length + unclaimed.length,
    };
  }

  /**
   * Deletes blobs: bytes, records and any channel binding (a channel's post deleted or edited to
   * another file, a channel deleted, retention, erasure).
   */
  async removeBlobs(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    // The binding first, then bytes, then records: a crash in between leaves a record no chat or
    // post points at, which the next cleanup removes.
    await this.storage.channelMedia.release(ids);
    for (const id of ids) await this.blobs.remove(id);
    await this.storage.mediaBlobs.delete(ids);
  }

  async close(): Promise<void> {
    await this.blobs.close();
  }
}

/**
 * Passes exactly `length` bytes on and fails the stream if the store delivers fewer (a damaged or
 * truncated blob): the reply is then cut off rather than left waiting for bytes that never come.
 */
function exactly(source: Readable, length: number, onShort: () => void): Readable {
  let seen = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      if (seen === length) done();
      else {
        onShort();
        done(new Error(`blob delivered ${seen} of ${length} bytes`));
      }
    },
  });
  source.once('error', (error) => counted.destroy(error));
  return source.pipe(counted);
}
