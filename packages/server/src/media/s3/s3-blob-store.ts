import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DataStore, ERRORS, Upload } from '@tus/utils';
import type { BlobStore } from '../ports.ts';

export interface S3BlobStoreOptions {
  bucket: string;
  endpoint?: string | undefined;
  region: string;
  forcePathStyle: boolean;
  prefix: string;
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  pieceBytes: number;
}

/** What `<blob>/info` holds: the upload's state, shared by every node through the bucket. */
interface UploadInfo {
  id: string;
  size: number;
  metadata: Record<string, string | null>;
  creationDate: string;
  /** The stored pieces in order: each an object `<blob>/p/<offset>` of `length` bytes. */
  pieces: { offset: number; length: number }[];
}

const offsetOf = (info: UploadInfo) => info.pieces.reduce((sum, p) => sum + p.length, 0);
const pieceKey = (offset: number) => `p/${offset.toString().padStart(16, '0')}`;
const isMissing = (error: unknown) =>
  error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey';

/**
 * tus uploads into an S3 bucket, written by hand over the AWS SDK's plainest calls (PutObject,
 * GetObject with Range, DeleteObject, ListObjectsV2) so that any S3-compatible store serves it:
 * `@tus/s3-store` needs ListParts and AbortMultipartUpload, which s3rver (the S3 server that
 * installs here) lacks. Each PATCH body is cut into pieces of `pieceBytes`, each stored as its own
 * object as soon as it is full (and what a request that broke off had delivered, as a shorter
 * piece), and the upload's offset is the sum of the stored pieces. A blob stays a list of pieces (no copy
 * to assemble it): a ranged read fetches the pieces it overlaps, in order.
 */
export class S3BlobStore extends DataStore implements BlobStore {
  private readonly client: S3Client;
  readonly uploads = this;

  constructor(private readonly options: S3BlobStoreOptions) {
    super();
    this.extensions = ['creation', 'creation-with-upload', 'termination'];
    this.client = new S3Client({
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
  }

  private key(blobId: string, name: string): string {
    return `${this.options.prefix}${blobId}/${name}`;
  }

  private async info(blobId: string): Promise<UploadInfo | undefined> {
    try {
      const reply = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(blobId, 'info') }),
      );
      return JSON.parse(await (reply.Body as { transformToString(): Promise<string> }).transformToString());
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  private async putInfo(info: UploadInfo): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.key(info.id, 'info'),
        Body: JSON.stringify(info),
        ContentType: 'application/json',
      }),
    );
  }

  override async create(upload: Upload): Promise<Upload> {
    await this.putInfo({
      id: upload.id,
      size: upload.size ?? 0,
      metadata: upload.metadata ?? {},
      creationDate: upload.creation_date ?? new Date().toISOString(),
      pieces: [],
    });
    return upload;
  }

  override async getUpload(id: string): Promise<Upload> {
    const info = await this.info(id);
    if (!info) throw ERRORS.FILE_NOT_FOUND;
    return new Upload({
      id,
      size: info.size,
      offset: offsetOf(info),
      metadata: info.metadata,
      creation_date: info.creationDate,
    });
  }

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    const info = await this.info(id);
    if (!info) throw ERRORS.FILE_NOT_FOUND;
    if (offsetOf(info) !== offset) throw ERRORS.INVALID_OFFSET;
    let buffered: Buffer[] = [];
    let bufferedBytes = 0;
    const flush = async () => {
      if (bufferedBytes === 0) return;
      const at = offsetOf(info);
      const body = Buffer.concat(buffered, bufferedBytes);
      buffered = [];
      bufferedBytes = 0;
      await this.client.send(
        new PutObjectCommand({ Bucket: this.options.bucket, Key: this.key(id, pieceKey(at)), Body: body }),
      );
      info.pieces.push({ offset: at, length: body.length });
      await this.putInfo(info);
    };
    try {
      for await (const chunk of readable) {
        let rest = chunk as Buffer;
        while (rest.length > 0) {
          const take = Math.min(rest.length, this.options.pieceBytes - bufferedBytes);
          buffered.push(rest.subarray(0, take));
          bufferedBytes += take;
          rest = rest.subarray(take);
          if (bufferedBytes === this.options.pieceBytes) await flush();
        }
      }
    } catch (error) {
      // The body broke off (a dropped connection, a request timeout): what arrived is a correct
      // prefix, so it is kept as a shorter piece and the client resumes after it, as with files.
      await flush();
      throw error;
    }
    await flush();
    return offsetOf(info);
  }

  override async remove(id: string): Promise<void> {
    for (const key of await this.keysUnder(`${this.options.prefix}${id}/`)) {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key }));
    }
  }

  private async keysUnder(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.options.bucket,
          Prefix: prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async storedBytes(blobId: string): Promise<number | undefined> {
    const info = await this.info(blobId);
    return info ? offsetOf(info) : undefined;
  }

  async read(blobId: string, start: number, end: number): Promise<Readable> {
    const info = await this.info(blobId);
    if (!info) throw ERRORS.FILE_NOT_FOUND;
    const parts = info.pieces.filter((p) => p.offset <= end && p.offset + p.length > start);
    const client = this.client;
    const { bucket } = this.options;
    const key = (p: { offset: number }) => this.key(blobId, pieceKey(p.offset));
    async function* bytes() {
      for (const p of parts) {
        const from = Math.max(start, p.offset) - p.offset;
        const to = Math.min(end, p.offset + p.length - 1) - p.offset;
        const reply = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: key(p), Range: `bytes=${from}-${to}` }),
        );
        // A store that ignores the Range (s3rver does for `bytes=0-0`) sends more: keep only the range.
        const startsAt = Number(/^bytes (\d+)-/.exec(reply.ContentRange ?? '')?.[1] ?? 0);
        let skip = from - startsAt;
        let left = to - from + 1;
        for await (const chunk of reply.Body as Readable) {
          let part = chunk as Buffer;
          if (skip > 0) {
            const dropped = Math.min(skip, part.length);
            part = part.subarray(dropped);
            skip -= dropped;
          }
          if (part.length > left) part = part.subarray(0, left);
          left -= part.length;
          if (part.length > 0) yield part;
        }
        if (left !== 0) throw new Error(`piece ${p.offset} of ${blobId} is shorter than its record`);
      }
    }
    return Readable.from(bytes(), { objectMode: false });
  }

  async list(): Promise<string[]> {
    const ids = new Set<string>();
    for (const key of await this.keysUnder(this.options.prefix)) {
      const rest = key.slice(this.options.prefix.length);
      if (rest.endsWith('/info')) ids.add(rest.slice(0, -'/info'.length));
    }
    return [...ids].sort();
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
