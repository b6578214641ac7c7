/**
 * The thumbnail `courier send-file` puts inside the encrypted message for a photo, made with sharp
 * (libvips; its prebuilt binary is an npm package): a WebP of at most 320 px on its longer side,
 * within MAX_PREVIEW_BYTES, and the photo's dimensions. Anything sharp cannot read (not a photo, a
 * damaged one, a platform without sharp's binary) is sent without a preview: never a failure.
 */
import { encodeBase64 } from '@courier/protocol';
import { type FileDescriptor, MAX_PREVIEW_BYTES } from '@courier/sdk';

const THUMB_SIDE = 320;
/** Photos larger than this are not decoded for a preview (sharp's own guard against pixel bombs). */
const MAX_INPUT_PIXELS = 100_000_000;

export type PhotoPreview = Pick<FileDescriptor, 'width' | 'height' | 'preview'>;

export async function photoPreview(path: string): Promise<PhotoPreview> {
  let sharp: typeof import('sharp').default;
  try {
    sharp = (await import('sharp')).default;
  } catch {
    return {};
  }
  try {
    const image = sharp(path, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' }).rotate();
    const meta = await image.metadata();
    // Orientation 5 to 8 turns the photo on its side: its shown width is the stored height.
    const turned = (meta.orientation ?? 1) >= 5;
    const width = turned ? meta.height : meta.width;
    const height = turned ? meta.width : meta.height;
    for (let side = THUMB_SIDE; side >= 40; side = Math.floor(side / 2))
      for (const quality of [75, 50]) {
        const data = await image
          .clone()
          .resize(side, side, { fit: 'inside', withoutEnlargement: true })
          .webp({ quality })
          .toBuffer();
        if (data.length <= MAX_PREVIEW_BYTES)
          return {
            ...(width && height ? { width, height } : {}),
            preview: { mime: 'image/webp', data: encodeBase64(data) },
          };
      }
    return width && height ? { width, height } : {};
  } catch {
    return {};
  }
}
