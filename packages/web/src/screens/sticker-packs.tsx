/**
 * Sticker packs: add a pack by its link (/addstickers/<short name>) or short name, see and remove
 * the packs added on this device, make a pack, and upload stickers to the packs this account owns
 * (PNG or WebP, animated WebP too, 512 px on one side; the server checks each file by its content).
 */
import { STICKER_LINK_PREFIX, type StickerPackView, stickerImagePath } from '@courier/protocol';
import { packOfLink, StickerShelf, stickerMimeOfName } from '@courier/sdk/page';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { device } from '../rpc.ts';
import { loadSession } from '../session.ts';
import { Alert, useAction } from '../ui/errors.tsx';
import { forgetPack, loadPack } from '../ui/sticker-image.tsx';

/** The packs this person added, in this browser only (the server is not told who uses which pack). */
export function stickerShelf(): StickerShelf {
  const key = `courier-sticker-packs:${loadSession()?.accountId ?? ''}`;
  return new StickerShelf({
    load: () => {
      try {
        return JSON.parse(localStorage.getItem(key) ?? '[]') as string[];
      } catch {
        return [];
      }
    },
    save: (names) => localStorage.setItem(key, JSON.stringify(names)),
  });
}

function PackPreview(props: { pack: StickerPackView }) {
  return (
    <ul class="sticker-grid" aria-label={`Stickers of ${props.pack.title}`}>
      {props.pack.stickers.map((s) => (
        <li key={s.index}>
          <img
            class="sticker-thumb"
            src={stickerImagePath(s.hash)}
            alt={`Sticker ${s.emoji}${s.frames > 1 ? ' (animated)' : ''}`}
            width={64}
            height={64}
            loading="lazy"
          />
        </li>
      ))}
    </ul>
  );
}

export function StickerPacks(props: { link?: string | undefined; onBack: () => void }) {
  const [shelf, setShelf] = useState<StickerPackView[]>([]);
  const [owned, setOwned] = useState<StickerPackView[]>([]);
  const [linkText, setLinkText] = useState(props.link ?? '');
  const [found, setFound] = useState<StickerPackView | undefined>();
  const [shortName, setShortName] = useState('');
  const [title, setTitle] = useState('');
  const [notice, setNotice] = useState('');
  const { error, run } = useAction();

  const refresh = useCallback(async () => {
    const names = await stickerShelf().list();
    const packs = await Promise.all(names.map((n) => loadPack(n)));
    setShelf(packs.filter((p): p is StickerPackView => p !== undefined));
    setOwned(await device.myStickerPacks());
  }, []);

  const look = useCallback(async (text: string) => {
    setFound(undefined);
    const name = packOfLink(text);
    if (!name)
      throw new Error(`That is not a sticker pack link (${STICKER_LINK_PREFIX}<name>) or a pack name.`);
    const pack = await loadPack(name, true);
    if (!pack) throw new Error(`No sticker pack is called “${name}”.`);
    setFound(pack);
  }, []);

  useEffect(() => {
    void run(async () => {
      await refresh();
      if (props.link) await look(props.link);
    });
  }, [props.link, refresh, look, run]);

  return (
    <section class="pane-body sticker-packs" aria-labelledby="sticker-packs-title">
      <button type="button" class="secondary" onClick={props.onBack}>
        Back to chats
      </button>
      <h2 id="sticker-packs-title">Sticker packs</h2>
      <p class="notice-line" role="status">
        {notice}
      </p>

      <section aria-labelledby="add-pack-title">
        <h3 id="add-pack-title">Add a pack</h3>
        <form
          class="row"
          onSubmit={(event) => {
            event.preventDefault();
            void run(() => look(linkText));
          }}
        >
          <label for="pack-link">Pack link or name</label>
          <input
            id="pack-link"
            value={linkText}
            placeholder="https://…/addstickers/name"
            onInput={(e) => setLinkText(e.currentTarget.value)}
          />
          <button type="submit" class="secondary">
            Show pack
          </button>
        </form>
        {found && (
          <section class="card" aria-labelledby="found-pack-title">
            <h4 id="found-pack-title">{found.title}</h4>
            <p>
              {found.stickers.length} sticker(s) · {found.shortName}
            </p>
            <PackPreview pack={found} />
            {shelf.some((p) => p.shortName === found.shortName) ? (
              <p>This pack is in your packs.</p>
            ) : (
              <button
                type="button"
                onClick={() =>
                  void run(async () => {
                    await stickerShelf().add(found.shortName);
                    setNotice(`Added “${found.title}” to your packs.`);
                    await refresh();
                  })
                }
              >
                Add to my packs
              </button>
            )}
          </section>
        )}
      </section>

      <section aria-labelledby="my-packs-title">
        <h3 id="my-packs-title">My packs</h3>
        {shelf.length === 0 && <p>None yet.</p>}
        <ul class="pack-list">
          {shelf.map((pack) => (
            <li key={pack.shortName}>
              <span>
                {pack.title} ({pack.stickers.length})
              </span>
              <button
                type="button"
                class="secondary"
                aria-label={`Remove ${pack.title} from my packs`}
                onClick={() =>
                  void run(async () => {
                    await stickerShelf().remove(pack.shortName);
                    await refresh();
                  })
                }
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="make-pack-title">
        <h3 id="make-pack-title">Make a pack</h3>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void run(async () => {
              const pack = await device.createStickerPack(shortName.trim(), title.trim());
              await stickerShelf().add(pack.shortName);
              setShortName('');
              setTitle('');
              setNotice(
                `Made “${pack.title}”. Its link: ${location.origin}${STICKER_LINK_PREFIX}${pack.shortName}`,
              );
              await refresh();
            });
          }}
        >
          <label for="pack-short">Short name (its link: letters a–z, digits, _)</label>
          <input id="pack-short" value={shortName} onInput={(e) => setShortName(e.currentTarget.value)} />
          <label for="pack-title">Title</label>
          <input id="pack-title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
          <button type="submit">Make pack</button>
        </form>
      </section>

      {owned.map((pack) => (
        <OwnedPack
          key={pack.shortName}
          pack={pack}
          onChanged={(text) =>
            void run(async () => {
              forgetPack(pack.shortName);
              setNotice(text);
              await refresh();
            })
          }
          onError={(caught) => void run(() => Promise.reject(caught))}
        />
      ))}
      <Alert text={error} />
    </section>
  );
}

/** A pack this account owns: its link, its stickers, and a form to upload one more. */
function OwnedPack(props: {
  pack: StickerPackView;
  onChanged: (notice: string) => void;
  onError: (error: unknown) => void;
}) {
  const { pack } = props;
  const [file, setFile] = useState<File | undefined>();
  const [emoji, setEmoji] = useState('');
  const [busy, setBusy] = useState(false);
  const id = `upload-${pack.shortName}`;
  return (
    <section class="card" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Your pack “{pack.title}”</h3>
      <p>
        Link: <code>{`${location.origin}${STICKER_LINK_PREFIX}${pack.shortName}`}</code>
      </p>
      <PackPreview pack={pack} />
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (!file) return;
          setBusy(true);
          void (async () => {
            try {
              const bytes = new Uint8Array(await file.arrayBuffer());
              // The type the file's name claims; the server checks the content against it.
              const mime = stickerMimeOfName(file.name) ?? (file.type || 'application/octet-stream');
              const sticker = await device.uploadSticker(pack.shortName, bytes, mime, emoji.trim());
              setEmoji('');
              props.onChanged(`Added sticker ${sticker.emoji} to “${pack.title}”.`);
            } catch (caught) {
              props.onError(caught);
            } finally {
              setBusy(false);
            }
          })();
        }}
      >
        <label for={`${id}-file`}>Sticker image (PNG or WebP, 512 px on one side)</label>
        <input
          id={`${id}-file`}
          type="file"
          accept="image/png,image/webp,.png,.webp"
          onChange={(e) => setFile(e.currentTarget.files?.[0])}
        />
        <label for={`${id}-emoji`}>Its emoji</label>
        <input id={`${id}-emoji`} value={emoji} onInput={(e) => setEmoji(e.currentTarget.value)} />
        <button type="submit" disabled={busy || !file}>
          Upload sticker
        </button>
      </form>
    </section>
  );
}
