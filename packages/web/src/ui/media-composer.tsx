/**
 * Sending media from a chat, or posting it to a channel: an Attach button (any files), drag and drop
 * onto the page, paste of files (a screenshot from the clipboard), and voice notes recorded with the
 * microphone (MediaRecorder). Each upload shows a progress bar with Cancel. The preview, dimensions
 * and duration are made here on the page (media/make-preview.ts); encryption and upload run in the
 * worker. In a channel (`channelId`) the file's key goes inside the public post. A chat or channel
 * also shows the files the device is still sending or posting from before a reload or a browser
 * restart (the worker goes on with them), with their progress and Cancel.
 */
import { proxy } from 'comlink';
import { useEffect, useRef, useState } from 'preact/hooks';
import { startMediaStreaming } from '../media/media-stream.ts';
import { describeForSending } from '../media/make-preview.ts';
import { AppError, device } from '../rpc.ts';
import { channelMediaGroup } from './channel-link.ts';
import type { PendingUploadView, TransferProgress } from '../worker/types.ts';
import { messageOf } from './errors.tsx';
import { formatDuration } from './media-format.ts';
import './media.css';

interface Upload {
  id: string;
  name: string;
  progress: TransferProgress;
  /** Held by the device but not under way in this tab (offline, or running in another tab). */
  waiting?: boolean;
}

/** How often a chat asks the worker how its resumed uploads are doing, while it has some. */
const PENDING_POLL_MS = 500;

/** The recorder's type: Opus in WebM where the browser has it (Chromium, Firefox), else its default. */
function recorderMime(): string | undefined {
  for (const type of ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4'])
    if (MediaRecorder.isTypeSupported(type)) return type;
  return undefined;
}

/** Where files go: a chat (end-to-end encrypted) or a channel this device holds the key of (public). */
type Destination = { groupId: string } | { channelId: string };

export function MediaComposer(props: Destination & { ready: boolean }) {
  const [uploads, setUploads] = useState<Upload[]>([]);
  /** The chat's or channel's uploads the worker still holds (started here or before a reload). */
  const [pending, setPending] = useState<PendingUploadView[]>([]);
  /** What the worker names the destination's pending uploads by (a channel: `channel:<id>`). */
  const pendingOf = 'groupId' in props ? props.groupId : channelMediaGroup(props.channelId);
  /** Uploads of this tab that ended (sent, failed, cancelled): an answer the worker gave before is stale. */
  const ended = useRef(new Set<string>());
  const [error, setError] = useState('');
  const [recording, setRecording] = useState<{ startedAt: number; elapsedMs: number } | undefined>();
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const recorder = useRef<{ recorder: MediaRecorder; stream: MediaStream; keep: boolean } | undefined>(
    undefined,
  );
  const destination = useRef<Destination>(props);
  destination.current = props;

  const sendFiles = async (files: File[], known: { durationMs?: number; name?: string } = {}) => {
    setError('');
    await Promise.all(
      files.map(async (file) => {
        const id = crypto.randomUUID();
        const name = known.name ?? file.name;
        const to = destination.current;
        setUploads((list) => [...list, { id, name, progress: { done: 0, total: file.size } }]);
        try {
          const meta = await describeForSending(file, known);
          const onProgress = proxy((progress: TransferProgress) =>
            setUploads((list) => list.map((u) => (u.id === id ? { ...u, progress } : u))),
          );
          if ('channelId' in to) await device.postChannelMedia(to.channelId, id, file, meta, onProgress);
          else await device.sendMedia(to.groupId, id, file, meta, onProgress);
          ended.current.add(id);
        } catch (caught) {
          // Out of reach: the device keeps the file and goes on once it can (shown as waiting).
          if (caught instanceof AppError && caught.code === 'SERVER_UNAVAILABLE') {
            const made = 'groupId' in to ? 'sent' : 'posted';
            setError(`${name}: ${messageOf(caught)} It is ${made} once the server can be reached.`);
            return;
          }
          if (!(caught instanceof AppError && caught.code === 'MEDIA_CANCELLED'))
            setError(`${name}: ${messageOf(caught)}`);
          ended.current.add(id);
        } finally {
          setUploads((list) => list.filter((u) => u.id !== id));
        }
      }),
    );
  };

  // Uploads the device still holds for this chat or channel: asked on opening it and again while there are any.
  useEffect(() => {
    setPending([]);
    if (!props.ready) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = async () => {
      try {
        const list = await device.pendingUploads(pendingOf);
        if (stopped) return;
        setPending(list);
        if (list.length > 0) timer = setTimeout(() => void ask(), PENDING_POLL_MS);
      } catch {
        // Signed out or stopped: nothing to show.
      }
    };
    void ask();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [pendingOf, props.ready, uploads.length]);

  // The media service worker, so that videos received here play while they download.
  useEffect(() => void startMediaStreaming(), []);

  // Paste and drop anywhere on the page go to the open chat.
  useEffect(() => {
    if (!props.ready) return;
    const filesOf = (data: DataTransfer | null) => [...(data?.files ?? [])];
    const onPaste = (event: ClipboardEvent) => {
      const files = filesOf(event.clipboardData);
      if (files.length === 0) return;
      event.preventDefault();
      void sendFiles(files);
    };
    const onDragOver = (event: DragEvent) => {
      if (!event.dataTransfer?.types.includes('Files')) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
      setDragging(true);
    };
    const onDragLeave = (event: DragEvent) => {
      if (event.relatedTarget === null) setDragging(false);
    };
    const onDrop = (event: DragEvent) => {
      const files = filesOf(event.dataTransfer);
      setDragging(false);
      if (files.length === 0) return;
      event.preventDefault();
      void sendFiles(files);
    };
    document.addEventListener('paste', onPaste);
    document.addEventListener('dragover', onDragOver);
    document.addEventListener('dragleave', onDragLeave);
    document.addEventListener('drop', onDrop);
    return () => {
      document.removeEventListener('paste', onPaste);
      document.removeEventListener('dragover', onDragOver);
      document.removeEventListener('dragleave', onDragLeave);
      document.removeEventListener('drop', onDrop);
    };
  }, [props.ready]);

  // The recording's clock, and the microphone released when the chat closes mid-recording.
  useEffect(() => {
    if (!recording) return;
    const timer = setInterval(
      () => setRecording((r) => (r ? { ...r, elapsedMs: Date.now() - r.startedAt } : r)),
      500,
    );
    return () => clearInterval(timer);
  }, [recording !== undefined]);
  useEffect(
    () => () => {
      const current = recorder.current;
      if (current) {
        current.keep = false;
        current.recorder.stop();
      }
    },
    [],
  );

  const startRecording = async () => {
    setError('');
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const mime = recorderMime();
      const media = new MediaRecorder(stream, mime ? { mimeType: mime } : {});
      const parts: Blob[] = [];
      const startedAt = Date.now();
      const entry = { recorder: media, stream, keep: true };
      recorder.current = entry;
      media.ondataavailable = (event) => parts.push(event.data);
      media.onstop = () => {
        for (const track of stream.getTracks()) track.stop();
        recorder.current = undefined;
        setRecording(undefined);
        if (!entry.keep || parts.length === 0) return;
        const type = (media.mimeType || mime || 'audio/webm').split(';')[0] as string;
        const extension = type.split('/')[1] ?? 'webm';
        const stamp = new Date(startedAt).toISOString().slice(0, 19).replace(/[T:]/g, '-');
        const name = `Voice note ${stamp}.${extension}`;
        const file = new File(parts, name, { type });
        void sendFiles([file], { durationMs: Date.now() - startedAt, name });
      };
      media.start(250);
      setRecording({ startedAt, elapsedMs: 0 });
    } catch (caught) {
      setError(`The microphone could not be used: ${messageOf(caught)}`);
    }
  };

  const stopRecording = (keep: boolean) => {
    const current = recorder.current;
    if (!current) return;
    current.keep = keep;
    current.recorder.stop();
  };

  // This tab's uploads with their live progress, then the ones the worker went on with after a reload.
  const shown: Upload[] = [
    ...uploads,
    ...pending
      .filter((p) => !ended.current.has(p.id) && !uploads.some((u) => u.id === p.id))
      .map((p) => ({ id: p.id, name: p.name, progress: p.progress, waiting: !p.running })),
  ];

  return (
    <div class={`media-composer${dragging ? ' dragging' : ''}`}>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        aria-label={'channelId' in props ? 'Files to post' : 'Files to send'}
        onChange={(event) => {
          const files = [...(event.currentTarget.files ?? [])];
          event.currentTarget.value = '';
          if (files.length > 0) void sendFiles(files);
        }}
      />
      <div class="media-actions">
        <button
          type="button"
          class="secondary"
          disabled={!props.ready}
          onClick={() => input.current?.click()}
        >
          Attach file
        </button>
        {recording ? (
          <>
            <span class="recording" role="status">
              Recording {formatDuration(recording.elapsedMs)}
            </span>
            <button type="button" onClick={() => stopRecording(true)}>
              Send voice note
            </button>
            <button type="button" class="secondary" onClick={() => stopRecording(false)}>
              Discard
            </button>
          </>
        ) : (
          <button
            type="button"
            class="secondary"
            disabled={!props.ready || typeof MediaRecorder === 'undefined'}
            onClick={() => void startRecording()}
          >
            Record voice note
          </button>
        )}
        {dragging && (
          <span class="drop-hint">
            {'channelId' in props ? 'Drop files to post them' : 'Drop files to send them'}
          </span>
        )}
      </div>
      {shown.length > 0 && (
        <ul class="uploads" aria-label="Uploads">
          {shown.map((u) => (
            <li key={u.id} class="upload">
              <span class="upload-name">
                {u.name}
                {u.waiting && <span class="upload-waiting"> (waiting to go on)</span>}
              </span>
              <progress
                value={u.progress.done}
                max={u.progress.total || 1}
                aria-label={`Uploading ${u.name}`}
              />
              <button
                type="button"
                class="secondary"
                onClick={() => {
                  ended.current.add(u.id);
                  setPending((list) => list.filter((p) => p.id !== u.id));
                  void device.cancelTransfer(u.id).catch((caught: unknown) => {
                    setError(`${u.name}: ${messageOf(caught)}`);
                  });
                }}
              >
                Cancel
                <span class="visually-hidden"> upload of {u.name}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p class="alert" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
