/**
 * The sticker picker under the composer: the packs this person added (kept on this device), each a
 * grid of stickers; choosing one sends it (a reference, never the image). Keyboard: Tab to a sticker,
 * Enter or Space to send, Escape to close.
 */
import { stickerImagePath, type StickerPackView } from '@courier/protocol';
import { useEffect, useState } from 'preact/hooks';
import { Alert, useAction } from '../ui/errors.tsx';
import { loadPack } from '../ui/sticker-image.tsx';
import { stickerShelf } from './sticker-packs.tsx';

export function StickerPicker(props: {
  onPick: (sticker: { pack: string; index: number; emoji: string }) => Promise<void>;
  onClose: () => void;
  onManage: () => void;
}) {
  const [packs, setPacks] = useState<StickerPackView[] | undefined>();
  const { error, run } = useAction();

  useEffect(() => {
    let cancelled = false;
    void run(async () => {
      const names = await stickerShelf().list();
      const loaded = await Promise.all(names.map((name) => loadPack(name)));
      if (!cancelled) setPacks(loaded.filter((p): p is StickerPackView => p !== undefined));
    });
    return () => {
      cancelled = true;
    };
  }, [run]);

  return (
    <section
      class="sticker-picker"
      aria-label="Stickers"
      onKeyDown={(event) => {
        if (event.key === 'Escape') props.onClose();
      }}
    >
      <div class="row sticker-picker-head">
        <h3>Stickers</h3>
        <button type="button" class="secondary" onClick={props.onManage}>
          Add or make packs
        </button>
        <button type="button" class="secondary" onClick={props.onClose}>
          Close
        </button>
      </div>
      {packs && packs.length === 0 && (
        <p>No sticker packs yet. Open a pack's link, or add one by its link in “Add or make packs”.</p>
      )}
      {packs?.map((pack) => (
        <section key={pack.shortName} class="sticker-pack" aria-label={`Pack ${pack.title}`}>
          <h4>{pack.title}</h4>
          <ul class="sticker-grid">
            {pack.stickers.map((s) => (
              <li key={s.index}>
                <button
                  type="button"
                  class="sticker-choice"
                  aria-label={`Send sticker ${s.emoji} from ${pack.title}`}
                  onClick={() =>
                    void run(() => props.onPick({ pack: pack.shortName, index: s.index, emoji: s.emoji }))
                  }
                >
                  <img src={stickerImagePath(s.hash)} alt="" width={64} height={64} loading="lazy" />
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
      <Alert text={error} />
    </section>
  );
}
