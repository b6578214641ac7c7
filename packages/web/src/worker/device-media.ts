/**
 * Photos, videos, voice notes and files in the worker: every byte of media crypto and transfer
 * happens here, never on the page's thread. The page hands over a File with the preview it made
 * (canvas, <video>); this encrypts and uploads it (tus, resumable, cancellable, with progress) and
 * sends the descriptor inside MLS. Downloads decrypt as they arrive, either whole (a photo for the
 * viewer, a voice note, a file to save) or as byte ranges for the media service worker
 * (media/media-sw.ts), which answers a <video>'s range requests so that it plays while downloading.
 */
import {
  blobSource,
  type ChannelFileOptions,
  deleteUpload,
  describeUpload,
  downloadDecryptedFile,
  type FileDescriptor,
  generateFileKey,
  type MediaEndpoint,
  newChannelPostId,
  type PlaintextSource,
  randomClientMsgId,
  type StoredMessage,
  uploadEncryptedFile,
} from '@courier/sdk';
import { channelMediaGroup, channelOfMediaGroup } from '../ui/channel-link.ts';
import { CourierError, decodeBase64, encodeBase64, UNSAFE_TEXT_PATTERN } from '@courier/protocol';
import { type PendingUpload, PendingUploads } from './pending-uploads.ts';
import type {
  MediaInfo,
  MediaMeta,
  MediaRangeReply,
  MediaRangeRequest,
  PendingUploadView,
  TransferProgress,
} from './types.ts';

/** What the media part needs of the running device. */
export interface MediaHost {
  endpoint(): MediaEndpoint;
  /** The running device's id (its pending uploads are kept per device). */
  deviceId(): string;
  /** One message of the chat as the device holds it (by sender device and client message id). */
  message(
    groupId: string,
    ref: { senderDeviceId: string; clientMsgId: string },
  ): Promise<StoredMessage | undefined>;
  /** Sends a file message; resolves once the server stored it. */
  sendFile(groupId: string, file: FileDescriptor, clientMsgId: string): Promise<void>;
  /** The file of a channel post this device keeps (verified against the channel key), if any. */
  channelFile(channelId: string, postId: string): Promise<FileDescriptor | undefined>;
  /**
   * Encrypts, uploads and posts a file to a channel this device holds the key of
   * (ChannelClient.postFile; given the same key, upload, post id and time again it goes on and posts once).
   */
  postChannelFile(
    channelId: string,
    source: PlaintextSource,
    describe: FileDescription,
    options: ChannelFileOptions,
  ): Promise<void>;
}

/** What a file descriptor says besides its blob, key and digest. */
export type FileDescription = { name: string; mime: string } & Partial<
  Pick<FileDescriptor, 'width' | 'height' | 'durationMs' | 'preview'>
>;

/** The name, type, dimensions, duration and preview the page gave, cleaned for a descriptor. */
export function describeFile(file: Blob, meta: MediaMeta): FileDescription {
  // Control and direction characters have no place in a file name (the descriptor refuses them).
  const name =
    meta.name.replace(new RegExp(UNSAFE_TEXT_PATTERN.source, 'gu'), '').trim().slice(0, 255) || 'file';
  return {
    name,
    mime: plainMime(meta.mime || file.type),
    ...(meta.width ? { width: Math.round(meta.width) } : {}),
    ...(meta.height ? { height: Math.round(meta.height) } : {}),
    ...(meta.durationMs && Number.isFinite(meta.durationMs)
      ? { durationMs: Math.max(1, Math.round(meta.durationMs)) }
      : {}),
    ...(meta.preview
      ? { preview: { mime: plainMime(meta.preview.mime), data: encodeBase64(meta.preview.bytes) } }
      : {}),
  };
}

/** The MIME type without parameters (`audio/webm;codecs=opus` → `audio/webm`), or a generic one. */
export function plainMime(type: string): string {
  const base = type.split(';')[0]?.trim().toLowerCase() ?? '';
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(base) && base.length <= 127
    ? base
    : 'application/octet-stream';
}

/** What a chat row shows of a file message, before any download. */
export function mediaInfo(file: FileDescriptor): MediaInfo {
  const preview = file.preview ? decodeBase64(file.preview.data) : undefined;
  return {
    name: file.name,
    mime: file.mime,
    size: file.size,
    ...(file.width === undefined ? {} : { width: file.width }),
    ...(file.height === undefined ? {} : { height: file.height }),
    ...(file.durationMs === undefined ? {} : { durationMs: file.durationMs }),
    ...(preview && file.preview ? { preview: { mime: file.preview.mime, bytes: preview } } : {}),
  };
}

/** How a chat list names a file message: "Photo: beach.jpg", "Voice note", "File: plan.pdf". */
export function mediaLabel(file: Pick<FileDescriptor, 'mime' | 'name'>): string {
  if (file.mime.startsWith('audio/')) return 'Voice note';
  const kind = file.mime.startsWith('image/') ? 'Photo' : file.mime.startsWith('video/') ? 'Video' : 'File';
  return `${kind}: ${file.name}`;
}

/** A running upload or download: `cancelled` by the person, or `stopped` (sign-out) to go on later. */
interface Transfer {
  controller: AbortController;
  cancelled: boolean;
}

/**
 * Failures after which a pending upload is kept to go on later (the server out of reach, the session
 * gone, the device stopped); any other (too large, over quota, not a member) ends it.
 */
const resumable = (error: unknown) =>
  !(error instanceof CourierError) ||
  error.code === 'SERVER_UNAVAILABLE' ||
  error.code.startsWith('AUTH_') ||
  error.code === 'MEDIA_CANCELLED';

/** Runs `work` holding a lock that this browser's other tabs (workers) respect, if it has Web Locks. */
function holding<T>(name: string, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return work();
  return locks.request(name, { signal }, work) as Promise<T>;
}

export class DeviceMedia {
  private readonly transfers = new Map<string, Transfer>();
  /** Progress of the uploads running here (the chat shows resumed ones from this). */
  private readonly progress = new Map<string, TransferProgress>();
  private pending: { deviceId: string; store: Promise<PendingUploads> } | undefined;

  constructor(private readonly host: MediaHost) {}

  private begin(transferId: string): Transfer {
    if (this.transfers.has(transferId))
      throw new CourierError('REQ_INVALID', { message: 'That transfer is already running.' });
    const transfer = { controller: new AbortController(), cancelled: false };
    this.transfers.set(transferId, transfer);
    return transfer;
  }

  /** The running device's pending uploads (pending-uploads.ts), opened once per device. */
  private uploads(): Promise<PendingUploads> {
    const deviceId = this.host.deviceId();
    if (this.pending?.deviceId !== deviceId) {
      const store = PendingUploads.open(deviceId);
      store.catch(() => {});
      this.pending = { deviceId, store };
    }
    return this.pending.store;
  }

  /**
   * Cancels an upload or download by the id the page gave it. A pending upload (running here,
   * waiting, or left by an earlier run) is deleted on the server and on the device; an unknown id
   * is no error.
   */
  async cancel(transferId: string): Promise<void> {
    const transfer = this.transfers.get(transferId);
    if (transfer) {
      transfer.cancelled = true;
      transfer.controller.abort();
      return;
    }
    const store = await this.uploads();
    const upload = (await store.all()).find((u) => u.id === transferId);
    if (!upload) return;
    await store.delete(transferId);
    if (upload.uploadUrl) await deleteUpload(this.host.endpoint(), upload.uploadUrl);
  }

  /**
   * Stops this device's transfers (sign-out, another device started here): pending uploads stay on
   * the device and go on when it runs again.
   */
  stop(): void {
    for (const transfer of this.transfers.values()) transfer.controller.abort();
    const pending = this.pending;
    this.pending = undefined;
    void pending?.store.then((store) => store.close()).catch(() => {});
  }

  /**
   * Encrypts a file with a fresh key, uploads the ciphertext and sends its descriptor (with the
   * page's preview, dimensions and duration) to the chat inside an MLS message. The file, its key
   * and the message wait on the device until sent (pending-uploads.ts): after a reload or a browser
   * restart `resumePending` goes on from where the server stopped.
   */
  async send(
    groupId: string,
    transferId: string,
    file: Blob,
    meta: MediaMeta,
    onProgress?: (progress: TransferProgress) => void,
  ): Promise<void> {
    const target = { kind: 'chat' as const, groupId, clientMsgId: randomClientMsgId() };
    await this.start(
      { id: transferId, target, file, meta, key: generateFileKey(), createdAtMs: Date.now() },
      onProgress,
    );
  }

  /** Keeps a new upload on the device (where it can) and runs it. */
  private async start(
    upload: PendingUpload,
    onProgress?: (progress: TransferProgress) => void,
  ): Promise<void> {
    const transfer = this.begin(upload.id);
    let store: PendingUploads | undefined;
    try {
      store = await this.uploads();
      await store.put(upload);
    } catch {
      // No room on the device (or no IndexedDB): sent all the same, without surviving a reload.
      store = undefined;
    }
    await this.upload(transfer, upload, store, onProgress);
  }

  /**
   * Goes on with the uploads an earlier run of this device left (a reload, a browser restart, the
   * server out of reach): each asks the server how far it got, sends the rest and then its message.
   * Uploads running already (here or, by their lock, in another tab) are left alone.
   */
  async resumePending(): Promise<void> {
    const store = await this.uploads();
    for (const upload of await store.all()) {
      if (this.transfers.has(upload.id)) continue;
      const transfer = this.begin(upload.id);
      void this.upload(transfer, upload, store).catch(() => {});
    }
  }

  /**
   * The uploads of a chat (or, by its `channel:<id>` media name, of a channel) still pending on this
   * device, with their progress where running here.
   */
  async pendingUploads(groupId: string): Promise<PendingUploadView[]> {
    const store = await this.uploads();
    const goesTo = (target: PendingUpload['target']) =>
      (target.kind === 'chat' ? target.groupId : channelMediaGroup(target.channelId)) === groupId;
    return (await store.all())
      .filter((u) => goesTo(u.target))
      .map((u) => ({
        id: u.id,
        name: u.meta.name,
        progress: this.progress.get(u.id) ?? { done: 0, total: u.file.size },
        running: this.progress.has(u.id),
      }));
  }

  private async upload(
    transfer: Transfer,
    upload: PendingUpload,
    store: PendingUploads | undefined,
    onProgress?: (progress: TransferProgress) => void,
  ): Promise<void> {
    const { id, target } = upload;
    const signal = transfer.controller.signal;
    let uploadUrl = upload.uploadUrl;
    try {
      await holding(`courier-upload-${id}`, signal, async () => {
        // Another tab may have sent or cancelled it while this one waited for the lock.
        if (store && !(await store.has(id))) return;
        this.progress.set(id, { done: 0, total: upload.file.size });
        const options = {
          signal,
          key: upload.key,
          ...(uploadUrl ? { resume: { uploadUrl, key: upload.key } } : {}),
          onStarted: (started: { uploadUrl: string }) => {
            uploadUrl = started.uploadUrl;
            void store?.setUploadUrl(id, started.uploadUrl).catch(() => {});
          },
          onProgress: (done: number, total: number) => {
            this.progress.set(id, { done, total });
            onProgress?.({ done, total });
          },
        };
        const source = blobSource(upload.file);
        const described = describeFile(upload.file, upload.meta);
        if (target.kind === 'channel') {
          // The same post id and time on every try: the server stores the post once.
          await this.host.postChannelFile(target.channelId, source, described, {
            ...options,
            postId: target.postId,
            sentAtMs: target.sentAtMs,
          });
        } else {
          const uploaded = await uploadEncryptedFile(this.host.endpoint(), target.groupId, source, options);
          const { name, mime, ...extra } = described;
          const descriptor: FileDescriptor = { ...describeUpload(uploaded, name, mime), ...extra };
          await this.host.sendFile(target.groupId, descriptor, target.clientMsgId);
        }
        await store?.delete(id);
      });
    } catch (error) {
      if (transfer.cancelled) {
        await store?.delete(id).catch(() => {});
        if (uploadUrl) await deleteUpload(this.host.endpoint(), uploadUrl).catch(() => {});
        throw new CourierError('MEDIA_CANCELLED');
      }
      if (!resumable(error)) await store?.delete(id).catch(() => {});
      throw error instanceof DOMException && error.name === 'AbortError'
        ? new CourierError('MEDIA_CANCELLED')
        : error;
    } finally {
      this.transfers.delete(id);
      this.progress.delete(id);
    }
  }

  /**
   * Encrypts a file with a fresh key, uploads it to a channel and posts it (its key inside the signed
   * post): a public broadcast, readable by anyone who can read the channel. Kept on the device until
   * posted, as a chat's file is (`send`): after a reload it goes on from where the server stopped,
   * and the post is made once.
   */
  async postToChannel(
    channelId: string,
    transferId: string,
    file: Blob,
    meta: MediaMeta,
    onProgress?: (progress: TransferProgress) => void,
  ): Promise<void> {
    const target = { kind: 'channel' as const, channelId, postId: newChannelPostId(), sentAtMs: Date.now() };
    await this.start(
      { id: transferId, target, file, meta, key: generateFileKey(), createdAtMs: Date.now() },
      onProgress,
    );
  }

  /** A chat message's file, or (`channel:<id>`, the post id) a channel post's. */
  private async find(groupId: string, messageKey: string): Promise<FileDescriptor> {
    const channelId = channelOfMediaGroup(groupId);
    if (channelId !== undefined) {
      const file = await this.host.channelFile(channelId, messageKey);
      if (!file)
        throw new CourierError('MEDIA_NOT_FOUND', { message: 'This device holds no such channel post.' });
      return file;
    }
    const split = messageKey.lastIndexOf(':');
    const message =
      split > 0
        ? await this.host.message(groupId, {
            senderDeviceId: messageKey.slice(0, split),
            clientMsgId: messageKey.slice(split + 1),
          })
        : undefined;
    if (!message?.file)
      throw new CourierError('MEDIA_NOT_FOUND', { message: 'This device holds no such file message.' });
    return message.file;
  }

  /**
   * Downloads a whole file and checks its digest: a Blob of the plaintext (a photo for the viewer,
   * a voice note, a file to save), with progress, cancellable.
   */
  async download(
    groupId: string,
    messageKey: string,
    transferId: string,
    onProgress?: (progress: TransferProgress) => void,
  ): Promise<Blob> {
    const file = await this.find(groupId, messageKey);
    const { controller } = this.begin(transferId);
    try {
      const parts: Uint8Array[] = [];
      const stream = downloadDecryptedFile(this.host.endpoint(), file, {
        signal: controller.signal,
        onProgress: (done, total) => void onProgress?.({ done, total }),
      });
      for await (const part of stream) parts.push(part);
      return new Blob(parts as BlobPart[], { type: file.mime });
    } finally {
      this.transfers.delete(transferId);
    }
  }

  /**
   * Answers byte-range requests for files of this device's chats on a port (the media service
   * worker's): each reply carries a stream of decrypted bytes, fetched and decrypted only as the
   * reader (a <video>) pulls them.
   */
  serve(port: MessagePort): void {
    port.onmessage = (event: MessageEvent<MediaRangeRequest>) => {
      const request = event.data;
      void this.range(request).then(
        (reply) => request.reply.postMessage(reply, reply.ok ? [reply.body] : []),
        (error: unknown) =>
          request.reply.postMessage({
            ok: false,
            code: error instanceof CourierError ? error.code : 'INTERNAL',
            message: error instanceof Error ? error.message : String(error),
          } satisfies MediaRangeReply),
      );
    };
    port.start();
  }

  private async range(request: MediaRangeRequest): Promise<MediaRangeReply & { ok: true }> {
    const file = await this.find(request.groupId, request.messageKey);
    const start = Math.min(request.start, file.size);
    const end = Math.min(request.end ?? file.size, file.size);
    if (start > end) throw new CourierError('MEDIA_RANGE_INVALID');
    // The whole file (a save to disk, a player's first request): its digest is checked at the end too.
    const body = downloadDecryptedFile(
      this.host.endpoint(),
      file,
      start === 0 && end === file.size ? {} : { range: { start, end } },
    );
    return { ok: true, mime: file.mime, size: file.size, start, end, body };
  }
}
