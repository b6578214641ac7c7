/**
 * A sticker as a message shows it: the image of a public pack (fetched once per pack, then cached by
 * the browser for a year under its content hash), or its emoji when the pack or sticker is gone.
 */
import { stickerImagePath, type StickerPackView } from '@courier/protocol';
import { useEffect, useState } from 'preact/hooks';
import { device } from '../rpc.ts';

const packs = new Map<string, Promise<StickerPackView | undefined>>();

/** A pack by its short name, asked for once per page load (a failure is asked again next time). */
export function loadPack(shortName: string, fresh = false): Promise<StickerPackView | undefined> {
  let pending = fresh ? undefined : packs.get(shortName);
  if (!pending) {
    pending = device.stickerPack(shortName).catch(() => {
      packs.delete(shortName);
      return undefined;
    });
    packs.set(shortName, pending);
  }
  return pending;
}

/** Forgets a cached pack (after its owner changed it on this device). */
export function forgetPack(shortName: string): void {
  packs.delete(shortName);
}

export function StickerImage(props: { sticker: { pack: string; index: number; emoji: string } }) {
  const { pack, index, emoji } = props.sticker;
  const [state, setState] = useState<{ src: string; width: number; height: number } | 'missing' | 'loading'>(
    'loading',
  );
  useEffect(() => {
    let cancelled = false;
    void loadPack(pack).then((view) => {
      if (cancelled) return;
      const sticker = view?.stickers.find((s) => s.index === index);
      setState(
        sticker
          ? { src: stickerImagePath(sticker.hash), width: sticker.width, height: sticker.height }
          : 'missing',
      );
    });
    return () => {
      cancelled = true;
    };
  }, [pack, index]);
  if (state === 'loading' || state === 'missing')
    return (
      <span class="sticker-fallback" role="img" aria-label={`Sticker ${emoji}`} data-sticker-pack={pack}>
        {emoji}
      </span>
    );
  return (
    <img
      class="sticker"
      src={state.src}
      alt={`Sticker ${emoji}`}
      width={state.width / 2}
      height={state.height / 2}
      loading="lazy"
      data-sticker-pack={pack}
      data-sticker-index={index}
    />
  );
}
