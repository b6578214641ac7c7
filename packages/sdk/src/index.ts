export { CourierHttp } from './http-client.ts';
export { CourierConnection } from './connection.ts';
export type { Accepted, ConnectionEvents, ConnectionOptions, ConnectionState } from './connection.ts';
export { MemoryClientStore } from './client-store.ts';
export type { ClientStore, OutboxItem } from './client-store.ts';
export { randomClientMsgId } from './random-id.ts';
export { defaultSocketFactory } from './websocket-like.ts';
export type { SocketFactory, WebSocketLike } from './websocket-like.ts';
