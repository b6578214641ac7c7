/** The part of the WHATWG WebSocket the SDK uses; Node's `ws` and browsers both provide it. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type SocketFactory = (url: string) => WebSocketLike | Promise<WebSocketLike>;

/** The browser's WebSocket where there is one, else the `ws` package (Node 20 has no global one). */
export const defaultSocketFactory: SocketFactory = async (url) => {
  const native = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (native) return new native(url);
  const { WebSocket } = await import('ws');
  return new WebSocket(url, { perMessageDeflate: false }) as unknown as WebSocketLike;
};
