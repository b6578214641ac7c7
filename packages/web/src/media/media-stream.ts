/**
 * The page's side of streaming playback: registers the media service worker (media-sw.ts) and
 * gives it a MessagePort to this page's device worker, so that `/media-stream/…` URLs play while
 * the file downloads. Without a service worker (a browser that has none, or a first load before it
 * took control) `streamUrl` answers undefined and the player downloads the whole file first.
 */
import { transfer } from 'comlink';
import { device } from '../rpc.ts';

let registering: Promise<boolean> | undefined;

/** Hands the service worker a fresh port to the device worker. */
async function givePort(worker: ServiceWorker): Promise<void> {
  const channel = new MessageChannel();
  await device.serveMedia(transfer(channel.port1, [channel.port1]));
  worker.postMessage({ type: 'courier-media-port' }, [channel.port2]);
}

/** Starts the service worker (once per page); true once it controls this page and holds a port. */
export function startMediaStreaming(): Promise<boolean> {
  registering ??= (async () => {
    const container = navigator.serviceWorker as ServiceWorkerContainer | undefined;
    if (!container) return false;
    try {
      // The worker asks again when it was stopped and lost its ports.
      container.addEventListener('message', (event: MessageEvent) => {
        if (event.data?.type === 'courier-media-port-wanted' && event.source)
          void givePort(event.source as ServiceWorker);
      });
      await container.register('/media-sw.js', { scope: '/', type: 'module' });
      await container.ready;
      if (!container.controller)
        await new Promise<void>((resolve) =>
          container.addEventListener('controllerchange', () => resolve(), { once: true }),
        );
      await givePort(container.controller as unknown as ServiceWorker);
      return true;
    } catch {
      return false;
    }
  })();
  return registering;
}

/** A same-origin URL a <video> or <audio> can play while the file downloads, when streaming works. */
export async function streamUrl(groupId: string, messageKey: string): Promise<string | undefined> {
  if (!(await startMediaStreaming())) return undefined;
  return `/media-stream/${encodeURIComponent(groupId)}/${encodeURIComponent(messageKey)}`;
}

/**
 * A same-origin URL that saves the file to disk as it downloads and decrypts (the service worker
 * answers it as an attachment, checking the file's digest at the end: a damaged file fails the
 * download), when streaming works.
 */
export async function saveUrl(
  groupId: string,
  messageKey: string,
  name: string,
): Promise<string | undefined> {
  const url = await streamUrl(groupId, messageKey);
  return url && `${url}?download=${encodeURIComponent(name)}`;
}
