/**
 * A photo, video, voice note or file in the chat. What shows at once comes from inside the
 * encrypted message (the sender's thumbnail, dimensions, duration, name, size): nothing is
 * downloaded until the person asks. A photo opens in the viewer; a video plays while it downloads
 * (media/media-stream.ts); a voice note downloads and plays; any other file downloads with a
 * progress bar and can be cancelled, then is saved under its name.
 */
import { proxy } from 'comlink';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { saveUrl, streamUrl } from '../media/media-stream.ts';
import { device } from '../rpc.ts';
import type { MediaInfo, TransferProgress } from '../worker/types.ts';
import { messageOf } from './errors.tsx';
import { formatBytes, formatDuration, IN_MEMORY_DOWNLOAD_LIMIT, mediaKind } from './media-format.ts';
import { MediaViewer } from './media-viewer.tsx';
import './media.css';

/** An object URL for some bytes, revoked when the component goes. */
function useObjectUrl(bytes: Uint8Array | undefined, mime: string | undefined): string | undefined {
  const url = useMemo(
    () => (bytes && mime ? URL.createObjectURL(new Blob([bytes as BlobPart], { type: mime })) : undefined),
    [bytes, mime],
  );
  useEffect(() => () => (url ? URL.revokeObjectURL(url) : undefined), [url]);
  return url;
}

/** A whole-file download run by the worker: progress, cancel, the plaintext as an object URL. */
function useDownload(groupId: string, messageKey: string) {
  const [progress, setProgress] = useState<TransferProgress | undefined>();
  const [url, setUrl] = useState<string | undefined>();
  const [error, setError] = useState('');
  const transfer = useRef<string | undefined>(undefined);
  useEffect(
    () => () => {
      if (transfer.current) void device.cancelTransfer(transfer.current);
    },
    [],
  );
  useEffect(() => () => (url ? URL.revokeObjectURL(url) : undefined), [url]);
  const start = async (): Promise<string | undefined> => {
    if (url) return url;
    if (transfer.current) return undefined;
    const id = crypto.randomUUID();
    transfer.current = id;
    setError('');
    setProgress({ done: 0, total: 1 });
    try {
      const blob = await device.downloadMedia(groupId, messageKey, id, proxy(setProgress));
      const made = URL.createObjectURL(blob);
      setUrl(made);
      return made;
    } catch (caught) {
      setError(messageOf(caught));
      return undefined;
    } finally {
      transfer.current = undefined;
      setProgress(undefined);
    }
  };
  const cancel = () => {
    if (transfer.current) void device.cancelTransfer(transfer.current);
  };
  return { progress, url, error, start, cancel };
}

function DownloadProgress(props: { name: string; progress: TransferProgress; onCancel: () => void }) {
  return (
    <span class="media-progress">
      <progress
        value={props.progress.done}
        max={props.progress.total || 1}
        aria-label={`Downloading ${props.name}`}
      />
      <button type="button" class="secondary" onClick={props.onCancel}>
        Cancel download
      </button>
    </span>
  );
}

/** A file message: "forwarded from" when it came from another chat, then its media. */
export function MediaMessage(props: {
  groupId: string;
  messageKey: string;
  file: MediaInfo;
  forwardedFrom?: string | undefined;
}) {
  return (
    <>
      {props.forwardedFrom && <span class="forwarded">Forwarded from {props.forwardedFrom}</span>}
      <MediaContent groupId={props.groupId} messageKey={props.messageKey} file={props.file} />
    </>
  );
}

function MediaContent(props: { groupId: string; messageKey: string; file: MediaInfo }) {
  const { file } = props;
  const kind = mediaKind(file.mime);
  const previewUrl = useObjectUrl(file.preview?.bytes, file.preview?.mime);
  const download = useDownload(props.groupId, props.messageKey);
  const [viewing, setViewing] = useState(false);
  const [videoUrl, setVideoUrl] = useState<string | undefined>();
  const player = useRef<HTMLVideoElement>(null);
  // Asked to play: start as soon as the first frames can play (autoplay alone would wait until the
  // browser thinks the rest will arrive in time, which on a slow link means most of the file).
  useEffect(() => {
    if (videoUrl) void player.current?.play().catch(() => {});
  }, [videoUrl]);
  const [saved, setSaved] = useState(false);
  const size = formatBytes(file.size);
  const duration = file.durationMs ? formatDuration(file.durationMs) : undefined;
  const dims = file.width && file.height ? { width: file.width, height: file.height } : {};

  if (kind === 'photo')
    return (
      <div class="media photo">
        <button
          type="button"
          class="media-thumb"
          aria-label={`Open photo ${file.name} (${size})`}
          onClick={() => {
            setViewing(true);
            void download.start();
          }}
        >
          {previewUrl ? (
            <img src={previewUrl} alt={`Photo: ${file.name}`} {...dims} />
          ) : (
            <span class="media-placeholder">Photo · {size}</span>
          )}
        </button>
        {viewing && (
          <MediaViewer
            name={file.name}
            url={download.url}
            previewUrl={previewUrl}
            progress={download.progress}
            error={download.error}
            onClose={() => {
              download.cancel();
              setViewing(false);
            }}
          />
        )}
      </div>
    );

  if (kind === 'video')
    return (
      <div class="media video">
        {videoUrl ? (
          <video
            ref={player}
            src={videoUrl}
            controls
            playsInline
            {...dims}
            {...(previewUrl ? { poster: previewUrl } : {})}
            aria-label={`Video: ${file.name}`}
          />
        ) : (
          <button
            type="button"
            class="media-thumb"
            aria-label={`Play video ${file.name}${duration ? ` (${duration})` : ''}, ${size}`}
            disabled={download.progress !== undefined}
            onClick={() =>
              void (async () => {
                // Plays while it downloads (the media service worker); else after a whole download.
                const url = (await streamUrl(props.groupId, props.messageKey)) ?? (await download.start());
                if (url) setVideoUrl(url);
              })()
            }
          >
            {previewUrl ? (
              <img src={previewUrl} alt="" {...dims} />
            ) : (
              <span class="media-placeholder">Video · {size}</span>
            )}
            <span class="media-play" aria-hidden="true">
              ▶{duration ? ` ${duration}` : ''}
            </span>
          </button>
        )}
        {download.progress && (
          <DownloadProgress name={file.name} progress={download.progress} onCancel={download.cancel} />
        )}
        {download.error && (
          <span class="alert" role="alert">
            {download.error}
          </span>
        )}
      </div>
    );

  if (kind === 'audio')
    return (
      <div class="media audio">
        {download.url ? (
          // biome-ignore lint/a11y/useMediaCaption: a voice note has no captions
          <audio src={download.url} controls autoPlay aria-label={`Voice note: ${file.name}`} />
        ) : download.progress ? (
          <DownloadProgress name={file.name} progress={download.progress} onCancel={download.cancel} />
        ) : (
          <button type="button" class="secondary" onClick={() => void download.start()}>
            ▶ Play voice note{duration ? ` (${duration})` : ''}
          </button>
        )}
        {download.error && (
          <span class="alert" role="alert">
            {download.error}
          </span>
        )}
      </div>
    );

  const save = async () => {
    // A large file streams to disk through the service worker, never whole in memory. It is opened in
    // a hidden frame: Chromium cancels an `<a download>` the service worker answers, not a navigation
    // to an attachment (and an error page lands in the frame, not in the chat).
    const streamed =
      file.size > IN_MEMORY_DOWNLOAD_LIMIT
        ? await saveUrl(props.groupId, props.messageKey, file.name)
        : undefined;
    if (streamed) {
      const frame = document.createElement('iframe');
      frame.hidden = true;
      frame.title = `Saving ${file.name}`;
      frame.src = streamed;
      document.body.append(frame);
      setSaved(true);
      return;
    }
    const url = await download.start();
    if (!url) return;
    const link = document.createElement('a');
    link.href = url;
    link.download = file.name;
    link.click();
    setSaved(true);
  };
  return (
    <div class="media file">
      <span class="media-file-name">{file.name}</span> <span class="media-size">{size}</span>
      {download.progress ? (
        <DownloadProgress name={file.name} progress={download.progress} onCancel={download.cancel} />
      ) : (
        <button type="button" class="secondary" onClick={() => void save()}>
          {saved ? 'Save again' : 'Download'}
          <span class="visually-hidden"> {file.name}</span>
        </button>
      )}
      {download.error && (
        <span class="alert" role="alert">
          {download.error}
        </span>
      )}
    </div>
  );
}
