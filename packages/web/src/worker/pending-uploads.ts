import type { MediaMeta } from './types.ts';

/**
 * Where a pending upload goes once uploaded: a message to a chat (its client message id keeps a
 * second try from sending it twice), or a post to a channel this device holds the key of (its post id
 * and time make a second try the same signed post, which the server stores once).
 */
export type UploadTarget =
  | { kind: 'chat'; groupId: string; clientMsgId: string }
  | { kind: 'channel'; channelId: string; postId: string; sentAtMs: number };

/**
 * A file being sent to a chat or posted to a channel, kept on the device until its message or post
 * is made, so that the upload goes on after a reload or a browser restart (issue 14): the file itself
 * (IndexedDB keeps a copy of a Blob's bytes), the key it is encrypted with (the chunks are the same
 * bytes again for the same key and index, so a resumed upload continues where the server stopped),
 * the tus upload once the server created it, and the message or post to make. Deleted once it is
 * made, or when the person cancels.
 */
export interface PendingUpload {
  /** The transfer id the page gave (what Cancel names). */
  id: string;
  target: UploadTarget;
  file: Blob;
  meta: MediaMeta;
  key: Uint8Array;
  /** The tus upload's URL, once the server created it. */
  uploadUrl?: string;
  createdAtMs: number;
}

/** A record as kept: one written before channel uploads had a target names its chat at the top. */
type StoredRecord = Omit<PendingUpload, 'file' | 'target'> & {
  target?: UploadTarget;
  groupId?: string;
  clientMsgId?: string;
};

function targetOf(record: StoredRecord): UploadTarget | undefined {
  if (record.target) return record.target;
  if (record.groupId !== undefined && record.clientMsgId !== undefined)
    return { kind: 'chat', groupId: record.groupId, clientMsgId: record.clientMsgId };
  return undefined;
}

/** Small records (rewritten when the upload URL is known) apart from the files (written once). */
const RECORDS = 'uploads';
const FILES = 'files';

const request = <T>(r: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });

/** The device's pending uploads: one small IndexedDB database per device, beside the app's. */
export class PendingUploads {
  private constructor(private readonly db: IDBDatabase) {}

  static async open(deviceId: string): Promise<PendingUploads> {
    const open = indexedDB.open(`courier-uploads-${deviceId}`, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore(RECORDS, { keyPath: 'id' });
      open.result.createObjectStore(FILES);
    };
    return new PendingUploads(await request(open));
  }

  private async write(stores: string[], change: (tx: IDBTransaction) => void): Promise<void> {
    const tx = this.db.transaction(stores, 'readwrite');
    change(tx);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error('The pending upload was not stored.'));
    });
  }

  /** Keeps a new pending upload, its file included (IndexedDB copies the bytes: it may take a while). */
  put(upload: PendingUpload): Promise<void> {
    const { file, ...record } = upload;
    return this.write([RECORDS, FILES], (tx) => {
      tx.objectStore(FILES).put(file, upload.id);
      tx.objectStore(RECORDS).put(record);
    });
  }

  /** Notes the tus upload's URL once the server created it (the file is not written again). */
  async setUploadUrl(id: string, uploadUrl: string): Promise<void> {
    const record = (await request(this.db.transaction(RECORDS).objectStore(RECORDS).get(id))) as
      | StoredRecord
      | undefined;
    if (!record) return;
    await this.write([RECORDS], (tx) => tx.objectStore(RECORDS).put({ ...record, uploadUrl }));
  }

  /** Whether an upload is still pending (not sent or cancelled, here or in another tab). */
  async has(id: string): Promise<boolean> {
    return (await request(this.db.transaction(RECORDS).objectStore(RECORDS).getKey(id))) !== undefined;
  }

  /** Every pending upload with its file, oldest first. */
  async all(): Promise<PendingUpload[]> {
    const tx = this.db.transaction([RECORDS, FILES]);
    const records = (await request(tx.objectStore(RECORDS).getAll())) as StoredRecord[];
    const files = await Promise.all(
      records.map((r) => request(tx.objectStore(FILES).get(r.id)) as Promise<Blob | undefined>),
    );
    const all: PendingUpload[] = [];
    records.forEach(({ groupId: _g, clientMsgId: _c, ...record }, i) => {
      const file = files[i];
      const target = targetOf(records[i] as StoredRecord);
      if (file && target) all.push({ ...record, target, file });
    });
    return all.sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  delete(id: string): Promise<void> {
    return this.write([RECORDS, FILES], (tx) => {
      tx.objectStore(RECORDS).delete(id);
      tx.objectStore(FILES).delete(id);
    });
  }

  close(): void {
    this.db.close();
  }
}
