import {
  CourierError,
  STICKER_PACKS_PATH,
  type StickerMime,
  type StickerPackView,
  type StickerView,
  stickerImagePath,
} from '@courier/protocol';
import type { CourierHttp } from '../http-client.ts';

/**
 * Sticker packs over the HTTP API (issue 16): create a pack, upload stickers to it, fetch any pack
 * by its short name. Packs and images are public; only their owner changes them.
 */
export class StickerApi {
  constructor(private readonly http: CourierHttp) {}

  createPack(shortName: string, title: string): Promise<StickerPackView> {
    return this.http.call('POST', STICKER_PACKS_PATH, { shortName, title });
  }

  /** Any pack, by its short name (no session needed). */
  pack(shortName: string): Promise<StickerPackView> {
    return this.http.call('GET', `${STICKER_PACKS_PATH}/${encodeURIComponent(shortName)}`);
  }

  /** The packs this account owns. */
  myPacks(): Promise<StickerPackView[]> {
    return this.http.call('GET', '/v1/me/sticker-packs');
  }

  /**
   * Uploads an image as the next sticker of a pack this account owns. `mime` is what the file says it
   * is (from its name); the server checks the content against it and refuses a mismatch.
   */
  upload(shortName: string, image: Uint8Array, mime: string, emoji: string): Promise<StickerView> {
    return this.http.call(
      'POST',
      `${STICKER_PACKS_PATH}/${encodeURIComponent(shortName)}/stickers?emoji=${encodeURIComponent(emoji)}`,
      image,
      mime,
    );
  }

  deleteSticker(shortName: string, index: number): Promise<void> {
    return this.http.call(
      'DELETE',
      `${STICKER_PACKS_PATH}/${encodeURIComponent(shortName)}/stickers/${index}`,
    );
  }

  deletePack(shortName: string): Promise<void> {
    return this.http.call('DELETE', `${STICKER_PACKS_PATH}/${encodeURIComponent(shortName)}`);
  }

  /** Where a sticker's image is (public, cached for a year). */
  imageUrl(sticker: Pick<StickerView, 'hash'>): string {
    return new URL(stickerImagePath(sticker.hash), this.http.baseUrl).toString();
  }
}

/** The sticker type a file name claims (what is uploaded as its Content-Type), if any. */
export function stickerMimeOfName(name: string): StickerMime | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.png')) return 'image/png';
  if (lower.endsWith('.webp')) return 'image/webp';
  return undefined;
}

/**
 * Picks a sticker of a pack by its index ("3") or by its emoji ("😀", the first with it); throws
 * STICKER_NOT_FOUND when the pack has none such.
 */
export function pickSticker(pack: StickerPackView, choice: string): StickerView {
  const found = /^[0-9]+$/.test(choice)
    ? pack.stickers.find((s) => s.index === Number(choice))
    : pack.stickers.find((s) => s.emoji === choice);
  if (!found) throw new CourierError('STICKER_NOT_FOUND', { details: { pack: pack.shortName, choice } });
  return found;
}
