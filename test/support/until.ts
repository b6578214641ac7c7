import { connect } from 'node:net';

/** Polls `check` every `everyMs` until it is true (a throw counts as false); fails after `ms`. */
export async function until(
  check: () => Promise<boolean> | boolean,
  what: string,
  ms = 30_000,
  everyMs = 100,
): Promise<void> {
  const end = Date.now() + ms;
  while (
    !(await Promise.resolve()
      .then(check)
      .catch(() => false))
  ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Whether a TCP connection to host:port opens now (then closed at once). */
export function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
