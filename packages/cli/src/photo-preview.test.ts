import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { decodeBase64 } from '@courier/protocol';
import { MAX_PREVIEW_BYTES, parseFileDescriptor } from '@courier/sdk';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { photoPreview } from './photo-preview.ts';

describe('photoPreview (sharp)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-preview-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a WebP thumbnail of at most 320 px and 48 KiB, with the photo’s dimensions', async () => {
    const path = join(dir, 'noise.png');
    // Noise compresses badly: the thumbnail must still fit the message's limit.
    await sharp(randomBytes(2000 * 1200 * 3), { raw: { width: 2000, height: 1200, channels: 3 } })
      .png()
      .toFile(path);
    const made = await photoPreview(path);
    expect(made.width).toBe(2000);
    expect(made.height).toBe(1200);
    expect(made.preview?.mime).toBe('image/webp');
    const bytes = decodeBase64(made.preview!.data)!;
    expect(bytes.length).toBeLessThanOrEqual(MAX_PREVIEW_BYTES);
    const thumb = await sharp(bytes).metadata();
    expect(thumb.format).toBe('webp');
    expect(Math.max(thumb.width!, thumb.height!)).toBeLessThanOrEqual(320);
    expect(thumb.width! / thumb.height!).toBeCloseTo(2000 / 1200, 1);
    // And it is a valid descriptor's preview.
    expect(() =>
      parseFileDescriptor({
        blobId: 'a'.repeat(32),
        key: Buffer.alloc(32).toString('base64'),
        digest: Buffer.alloc(32).toString('base64'),
        size: 1,
        mime: 'image/png',
        name: 'noise.png',
        ...made,
      }),
    ).not.toThrow();
  });

  it('shows a turned photo (EXIF orientation) with its shown dimensions', async () => {
    const path = join(dir, 'turned.jpg');
    await sharp({ create: { width: 600, height: 400, channels: 3, background: '#888' } })
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toFile(path);
    expect(await photoPreview(path)).toMatchObject({ width: 400, height: 600 });
  });

  it('sends what it cannot read without a preview, never failing', async () => {
    const path = join(dir, 'fake.jpg');
    writeFileSync(path, randomBytes(5000));
    expect(await photoPreview(path)).toEqual({});
    expect(await photoPreview(join(dir, 'missing.jpg'))).toEqual({});
  });
});
