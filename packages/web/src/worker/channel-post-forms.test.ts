import { encodeBase64 } from '@courier/protocol';
import type { ChannelPost, FileDescriptor } from '@courier/sdk';
import { describe, expect, it } from 'vitest';
import { keyOutcomeText } from './channel-admins.ts';
import { fileOfHeld, held, rowOf } from './channel-post-forms.ts';

const file: FileDescriptor = {
  blobId: 'a'.repeat(32),
  key: encodeBase64(new Uint8Array(32).fill(7)),
  digest: encodeBase64(new Uint8Array(32).fill(9)),
  size: 123_456,
  mime: 'image/png',
  name: 'harbour.png',
  width: 1000,
  height: 600,
  preview: { mime: 'image/webp', data: encodeBase64(new Uint8Array([1, 2, 3])) },
};

const verified = (over: Partial<Extract<ChannelPost, { kind: 'verified' }>> = {}): ChannelPost => ({
  kind: 'verified',
  channelId: 'c_AAAAAAAAAAAAAAAAAAAAAA',
  postId: 'p1',
  seq: 4,
  revision: 0,
  deleted: false,
  content: { kind: 'known', content: { v: 1, type: 'file', file, sentAtMs: 1 }, shown: true },
  createdAtMs: 1000,
  editedAtMs: null,
  views: 2,
  ...over,
});

describe('channel posts with files on the web device', () => {
  it('a verified file post shows its preview, name and size, and its file is found for download', () => {
    const kept = held(verified());
    const row = rowOf(kept);
    expect(row.kind).toBe('post');
    expect(row.unsupported).toBeUndefined();
    expect(row.file).toMatchObject({ name: 'harbour.png', mime: 'image/png', size: 123_456, width: 1000 });
    expect([...(row.file?.preview?.bytes ?? [])]).toEqual([1, 2, 3]);
    expect(fileOfHeld(kept)).toEqual(file);
  });

  it('no file is found for a deleted post, a rejected one, a text post or none', () => {
    expect(fileOfHeld(held(verified({ deleted: true, content: undefined })))).toBeUndefined();
    expect(
      fileOfHeld(held({ kind: 'rejected', channelId: 'c_x', postId: 'p', seq: 5, reason: 'bad_signature' })),
    ).toBeUndefined();
    expect(
      fileOfHeld(
        held(
          verified({
            content: { kind: 'known', content: { v: 1, type: 'text', text: 'hi', sentAtMs: 1 }, shown: true },
          }),
        ),
      ),
    ).toBeUndefined();
    expect(fileOfHeld(undefined)).toBeUndefined();
  });

  it('says what came of a handed-over channel key, and why one was refused', () => {
    const base = { channelId: 'c_x', name: 'desk', fromAccountId: 'u_x' };
    expect(keyOutcomeText({ kind: 'imported', ...base })).toBe(
      'Channel key received for @desk: this device can now post to it.',
    );
    for (const reason of ['not_owner', 'not_admin', 'key_mismatch', 'unknown_channel'] as const) {
      const text = keyOutcomeText({ kind: 'refused', ...base, reason });
      expect(text).toMatch(/^A channel key for @desk was refused: .+\. Nothing was kept\.$/);
      expect(text).not.toContain('undefined');
    }
  });
});
