import type { Config } from '../config.ts';
import { openBlobStore } from '../media/open-blob-store.ts';
import type { BlobStore } from '../media/ports.ts';

/**
 * The blob store for sticker images: of the media store's kind, apart from media ciphertext (so
 * media retention never sees a sticker): files under `stickers.dir`, or the media bucket under the
 * key prefix `<media prefix>stickers/`.
 */
export function openStickerBlobStore(
  config: Pick<Config, 'media' | 'stickers'>,
  env: Readonly<Record<string, string | undefined>>,
): Promise<BlobStore> {
  const media = config.media.store;
  return openBlobStore(
    media.kind === 'fs'
      ? { kind: 'fs', dir: config.stickers.dir }
      : { ...media, prefix: `${media.prefix}stickers/` },
    env,
  );
}
