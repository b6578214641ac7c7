/**
 * Where the plaintext of a file to send is read from, at any offset: an upload that resumes (after
 * a dropped connection or a restart) re-reads and re-encrypts only the chunks it still needs.
 */
export interface PlaintextSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional: fills `target` with the bytes at `offset` (as many as it is long, all within the
   * file). An upload then reads every slice into one buffer instead of a fresh one per slice.
   */
  readInto?(offset: number, target: Uint8Array): Promise<void>;
}

/** A browser File or Blob, or in Node a file opened with `fs.openAsBlob(path)` (read lazily). */
export function blobSource(blob: Blob): PlaintextSource {
  return {
    size: blob.size,
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
  };
}

/** Bytes already in memory. */
export function bytesSource(bytes: Uint8Array): PlaintextSource {
  return {
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
  };
}
