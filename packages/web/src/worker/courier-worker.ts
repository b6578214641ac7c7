/**
 * The app's dedicated Web Worker: the SDK and all MLS work run here, off the page's thread. The page
 * reaches the Device through Comlink; every call answers an Outcome so that the catalog code of a
 * failure survives the trip (Comlink would keep only an Error's message).
 */
import { expose } from 'comlink';
import { CourierError } from '@courier/protocol';
import { Device } from './device.ts';
import type { DeviceEvent, Outcome } from './types.ts';

const device = new Device(self.location.origin);

/**
 * Calls that answer from the device's stores, or start and stop it: they do not wait for the client.
 * Every other call waits until the client `start` is setting up runs (see `Device.clientStarted`).
 */
const READS_FROM_STORES = new Set([
  'start',
  'stop',
  'clientStarted',
  'chats',
  'find',
  'page',
  'pageSince',
  'requests',
]);

function failure(error: unknown): Outcome<never> {
  if (error instanceof CourierError)
    return {
      ok: false,
      error: {
        code: error.code,
        message: error.message,
        ...(error.details === undefined ? {} : { details: error.details }),
      },
    };
  return {
    ok: false,
    error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) },
  };
}

type Methods = {
  [K in keyof Device as Device[K] extends (...args: never[]) => unknown ? K : never]: Device[K];
};

/** The Device's methods, each answering an Outcome. */
export type DeviceApi = {
  [K in Exclude<keyof Methods, 'onEvent'>]: (
    ...args: Parameters<Methods[K]>
  ) => Promise<Outcome<Awaited<ReturnType<Methods[K]>>>>;
} & { subscribe(listener: (event: DeviceEvent) => void): void };

const api = new Proxy({} as DeviceApi, {
  get(_target, name: string | symbol) {
    if (typeof name !== 'string') return undefined;
    if (name === 'subscribe') return (listener: (event: DeviceEvent) => void) => device.onEvent(listener);
    const method = (device as unknown as Record<string, unknown>)[name];
    if (typeof method !== 'function') return undefined;
    return async (...args: unknown[]) => {
      try {
        if (!READS_FROM_STORES.has(name)) await device.clientStarted();
        return { ok: true, value: await method.apply(device, args) };
      } catch (error) {
        return failure(error);
      }
    };
  },
});

expose(api);
