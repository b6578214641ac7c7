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
  describeUpload,
  downloadDecryptedFile,
  type FileDescriptor,
  type MediaEndpoint,
  type PlaintextSource,
  randomClientMsgId,
  type StoredMessage,
  type UploadOptions,
  uploadEncryptedFile,
} from '@courier/sdk';
import { channelOfMediaGroup } from '../ui/channel-link.ts';
import { CourierError, decodeBase64, encodeBase64, UNSAFE_TEXT_PATTERN } from '@courier/protocol';
import type { MediaInfo, MediaMeta, MediaRangeReply, MediaRangeRequest, TransferProgress } from './types.ts';

/** What the media part needs of the running device. */
export interface MediaHost {
  endpoint(): MediaEndpoint;
  /** One message of the chat as the device holds it (by sender device and client message id). */
  message(
    groupId: string,
    ref: { senderDeviceId: string; clientMsgId: string },
  ): Promise<StoredMessage | undefined>;
  /** Sends a file message; resolves once the server stored it. */
  sendFile(groupId: string, file: FileDescriptor, clientMsgId: string): Promise<void>;
  /** The file of a channel post this device keeps (verified against the channel key), if any. */
  channelFile(channelId: string, postId: string): Promise<FileDescriptor | undefined>;
  /** Encrypts, uploads and posts a file to a channel this device holds the key of (ChannelClient.postFile). */
  postChannelFile(
    channelId: string,
    source: PlaintextSource,
    describe: FileDescription,
    options: UploadOptions,
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

export class DeviceMedia {
  private readonly transfers = new Map<string, AbortController>();

  constructor(private readonly host: MediaHost) {}

  private begin(transferId: string): AbortController {
    if (this.transfers.has(transferId))
      throw new CourierError('REQ_INVALID', { message: 'That transfer is already running.' });
    const controller = new AbortController();
    this.transfers.set(transferId, controller);
    return controller;
  }

  /** Cancels an upload or download by the id the page gave it (nothing happens for an unknown id). */
  cancel(transferId: string): void {
    this.transfers.get(transferId)?.abort();
  }

  /**
   * Encrypts a file with a fresh key, uploads the ciphertext and sends its descriptor (with the
   * page's preview, dimensions and duration) to the chat inside an MLS message.
   */
  async send(
    groupId: string,
    transferId: string,
    file: Blob,
    meta: MediaMeta,
    onProgress?: (progress: TransferProgress) => void,
  ): Promise<void> {
    const controller = this.begin(transferId);
    try {
      const uploaded = await uploadEncryptedFile(this.host.endpoint(), groupId, blobSource(file), {
        signal: controller.signal,
        onProgress: (done, total) => void onProgress?.({ done, total }),
      });
      const { name, mime, ...extra } = describeFile(file, meta);
      const descriptor: FileDescriptor = { ...describeUpload(uploaded, name, mime), ...extra };
      await this.host.sendFile(groupId, descriptor, randomClientMsgId());
    } finally {
      this.transfers.delete(transferId);
    }
  }

  /**
   * Encrypts a file with a fresh key, uploads it to a channel and posts it (its key inside the signed
   * post): a public broadcast, readable by anyone who can read the channel.
   */
  async postToChannel(
    channelId: string,
    transferId: string,
    file: Blob,
    meta: MediaMeta,
    onProgress?: (progress: TransferProgress) => void,
  ): Promise<void> {
    const controller = this.begin(transferId);
    try {
      await this.host.postChannelFile(channelId, blobSource(file), describeFile(file, meta), {
        signal: controller.signal,
        onProgress: (done, total) => void onProgress?.({ done, total }),
      });
    } finally {
      this.transfers.delete(transferId);
    }
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
    const controller = this.begin(transferId);
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
