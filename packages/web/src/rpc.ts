/** The page's end of the worker: typed calls that throw an AppError with the catalog code. */
import { proxy, wrap } from 'comlink';
import type { DeviceApi } from './worker/courier-worker.ts';
import type { DeviceEvent, Outcome } from './worker/types.ts';

export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const remote = wrap<DeviceApi>(
  new Worker(new URL('./worker/courier-worker.ts', import.meta.url), { type: 'module', name: 'courier' }),
);

// The operator's pinned endpoint-list keys, when the server gives them with the page: the worker's
// connection then fails over across the signed list (before anything starts: messages keep order).
const endpointKeys = document.querySelector<HTMLMetaElement>('meta[name="courier-endpoint-keys"]')?.content;
if (endpointKeys) void remote.setEndpointKeys(endpointKeys.split(','));

type Unwrapped = {
  [K in Exclude<keyof DeviceApi, 'subscribe'>]: (
    ...args: Parameters<DeviceApi[K]>
  ) => Promise<Awaited<ReturnType<DeviceApi[K]>> extends Outcome<infer T> ? T : never>;
};

/** The device in the worker, as plain async calls. */
export const device = new Proxy({} as Unwrapped, {
  get(_target, name: string | symbol) {
    if (typeof name !== 'string' || name === 'then') return undefined;
    return async (...args: unknown[]) => {
      const call = (remote as unknown as Record<string, (...a: unknown[]) => Promise<Outcome<unknown>>>)[
        name
      ]!;
      const outcome = await call(...args);
      if (!outcome.ok) throw new AppError(outcome.error.code, outcome.error.message, outcome.error.details);
      return outcome.value;
    };
  },
});

export function subscribe(listener: (event: DeviceEvent) => void): void {
  void remote.subscribe(proxy(listener));
}
