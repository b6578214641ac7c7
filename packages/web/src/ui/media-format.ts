/** How sizes and durations of files read in a chat. */

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** What kind of media a MIME type is, as a chat shows it. */
export function mediaKind(mime: string): 'photo' | 'video' | 'audio' | 'file' {
  if (/^image\/(jpeg|png|gif|webp|avif|bmp)$/.test(mime)) return 'photo';
  if (mime.startsWith('video/')) return 'video';
  if (mime.startsWith('audio/')) return 'audio';
  return 'file';
}

/**
 * Files larger than this are saved by streaming them to disk through the media service worker
 * (media/media-stream.ts `saveUrl`), never held whole in the page's or the worker's memory; smaller
 * ones download into a Blob first (the viewer, a voice note and a saved file reuse it).
 */
export const IN_MEMORY_DOWNLOAD_LIMIT = 16 * 1024 * 1024;
