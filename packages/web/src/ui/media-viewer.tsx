/**
 * The photo viewer: a modal <dialog> (Escape closes it, as does its Close button, and focus returns
 * where it was) showing the sender's preview at once and the full-size photo once it has been
 * downloaded and decrypted, with the download's progress meanwhile.
 */
import { useEffect, useRef } from 'preact/hooks';
import type { TransferProgress } from '../worker/types.ts';

export function MediaViewer(props: {
  name: string;
  /** The full-size photo (an object URL) once downloaded; the preview until then. */
  url: string | undefined;
  previewUrl: string | undefined;
  progress: TransferProgress | undefined;
  error: string;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    element?.showModal();
    return () => element?.close();
  }, []);
  const shown = props.url ?? props.previewUrl;
  return (
    <dialog ref={dialog} class="media-viewer" aria-label={`Photo: ${props.name}`} onClose={props.onClose}>
      <div class="media-viewer-bar">
        <span class="media-viewer-name">{props.name}</span>
        <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
          Close
        </button>
      </div>
      {shown && (
        <img
          src={shown}
          alt={props.url ? `Photo: ${props.name}` : `Preview of ${props.name}`}
          class={props.url ? 'media-full' : 'media-full loading'}
          data-full={props.url ? 'true' : 'false'}
        />
      )}
      {!props.url && props.progress && !props.error && (
        <progress
          value={props.progress.done}
          max={props.progress.total || 1}
          aria-label={`Downloading ${props.name}`}
        />
      )}
      {props.error && (
        <p class="alert" role="alert">
          {props.error}
        </p>
      )}
    </dialog>
  );
}
