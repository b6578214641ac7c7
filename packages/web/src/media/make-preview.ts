/**
 * Sender-side previews, made on the page with the browser's own decoders: a photo's thumbnail
 * (createImageBitmap, scaled on a canvas, WebP), a video's poster frame and duration (<video>), a
 * sound's duration (<audio>). They travel inside the encrypted message (at most MAX_PREVIEW_BYTES),
 * so the other side shows them before any download. A file the browser cannot decode is sent
 * without a preview.
 */
import { MAX_PREVIEW_BYTES } from '@courier/sdk/page';
import type { MediaMeta } from '../worker/types.ts';

/** The longer side of a thumbnail, in pixels; halved until the image fits MAX_PREVIEW_BYTES. */
const THUMB_SIDE = 320;

async function encodeThumbnail(
  source: CanvasImageSource,
  width: number,
  height: number,
): Promise<MediaMeta['preview']> {
  for (let side = THUMB_SIDE; side >= 40; side = Math.floor(side / 2)) {
    const scale = Math.min(1, side / Math.max(width, height));
    const canvas = new OffscreenCanvas(
      Math.max(1, Math.round(width * scale)),
      Math.max(1, Math.round(height * scale)),
    );
    const context = canvas.getContext('2d');
    if (!context) return undefined;
    context.drawImage(source, 0, 0, canvas.width, canvas.height);
    for (const quality of [0.75, 0.5]) {
      const blob = await canvas.convertToBlob({ type: 'image/webp', quality });
      if (blob.size <= MAX_PREVIEW_BYTES)
        return { mime: blob.type || 'image/webp', bytes: new Uint8Array(await blob.arrayBuffer()) };
    }
  }
  return undefined;
}

function loadMedia(element: HTMLMediaElement, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    element.addEventListener('loadeddata', () => resolve(), { once: true });
    element.addEventListener('error', () => reject(new Error('cannot decode')), { once: true });
    element.src = url;
  });
}

const finiteMs = (seconds: number) => (Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined);

async function videoMeta(file: Blob): Promise<Partial<MediaMeta>> {
  const url = URL.createObjectURL(file);
  const video = document.createElement('video');
  video.muted = true;
  video.preload = 'auto';
  try {
    await loadMedia(video, url);
    const durationMs = finiteMs(video.duration);
    // A frame a little way in says more than a black first frame, when the file says how long it is.
    if (durationMs && durationMs > 2000) {
      const seeked = new Promise((resolve) => video.addEventListener('seeked', resolve, { once: true }));
      video.currentTime = Math.min(1, video.duration / 10);
      await seeked;
    }
    const { videoWidth: width, videoHeight: height } = video;
    const preview = width > 0 && height > 0 ? await encodeThumbnail(video, width, height) : undefined;
    return {
      ...(width > 0 ? { width, height } : {}),
      ...(durationMs ? { durationMs } : {}),
      ...(preview ? { preview } : {}),
    };
  } finally {
    video.removeAttribute('src');
    video.load();
    URL.revokeObjectURL(url);
  }
}

async function audioMeta(file: Blob): Promise<Partial<MediaMeta>> {
  const url = URL.createObjectURL(file);
  const audio = document.createElement('audio');
  try {
    await new Promise<void>((resolve, reject) => {
      audio.addEventListener('loadedmetadata', () => resolve(), { once: true });
      audio.addEventListener('error', () => reject(new Error('cannot decode')), { once: true });
      audio.src = url;
    });
    const durationMs = finiteMs(audio.duration);
    return durationMs ? { durationMs } : {};
  } finally {
    URL.revokeObjectURL(url);
  }
}

async function imageMeta(file: Blob): Promise<Partial<MediaMeta>> {
  const bitmap = await createImageBitmap(file);
  try {
    const preview = await encodeThumbnail(bitmap, bitmap.width, bitmap.height);
    return { width: bitmap.width, height: bitmap.height, ...(preview ? { preview } : {}) };
  } finally {
    bitmap.close();
  }
}

/** Name, type, dimensions, duration and preview of a file about to be sent (what can be known). */
export async function describeForSending(
  file: File,
  known: { durationMs?: number; name?: string } = {},
): Promise<MediaMeta> {
  const mime = file.type || 'application/octet-stream';
  let found: Partial<MediaMeta> = {};
  try {
    if (mime.startsWith('image/')) found = await imageMeta(file);
    else if (mime.startsWith('video/')) found = await videoMeta(file);
    else if (mime.startsWith('audio/') && known.durationMs === undefined) found = await audioMeta(file);
  } catch {
    // Not decodable here: sent as a plain file, without a preview.
  }
  return {
    name: known.name ?? (file.name || 'file'),
    mime,
    ...found,
    ...(known.durationMs === undefined ? {} : { durationMs: known.durationMs }),
  };
}
