export { CourierHttp } from './http-client.ts';
export { CourierConnection } from './connection.ts';
export type { Accepted, ConnectionEvents, ConnectionOptions, ConnectionState } from './connection.ts';
export { MemoryClientStore } from './client-store.ts';
export type { ClientStore, OutboxItem } from './client-store.ts';
export { randomClientMsgId } from './random-id.ts';
export { defaultSocketFactory } from './websocket-like.ts';
export type { SocketFactory, WebSocketLike } from './websocket-like.ts';
export { SecureClient } from './mls/secure-client.ts';
export type { SecureClientEvents, SecureClientOptions } from './mls/secure-client.ts';
export { MemoryMlsStore } from './mls/mls-store.ts';
export type {
  GroupRecord,
  GroupSaveExtras,
  MlsStore,
  PendingCommit,
  StashedEntry,
  StoredIdentity,
  StoredMessage,
} from './mls/mls-store.ts';
export { decodeContent, encodeContent, MAX_TEXT_LENGTH } from './mls/message-content.ts';
export type { MessageContent } from './mls/message-content.ts';
export type { KeyChange } from './mls/device-directory.ts';
export { IndexedDbMlsStore } from './mls/indexeddb-store.ts';
export type { EndpointInUse } from './connection.ts';
export { CandidateTracker, orderCandidates } from './failover/candidate-order.ts';
export { EndpointBook } from './failover/endpoint-book.ts';
export type { EndpointBookOptions, EndpointBookState, OfferResult } from './failover/endpoint-book.ts';
export {
  defaultFailoverTimings,
  directSocketUrl,
  directTransport,
  EndpointFailover,
  endpointListUrl,
  fetchListDirect,
} from './failover/endpoint-failover.ts';
export type {
  EndpointFailoverOptions,
  EndpointListReply,
  EndpointTransport,
  FailoverTimings,
  ListFetcher,
} from './failover/endpoint-failover.ts';
export { staggeredRace } from './failover/staggered-race.ts';
export { relayTunnelListFetcher, relayTunnelTransport, spkiPin } from './failover/relay-tunnel.ts';
export type { RelayTunnelOptions } from './failover/relay-tunnel.ts';
export type {
  ChatState,
  HistoryCursor,
  HistoryPage,
  MessageStatus,
} from './mls/mls-store.ts';
export {
  checkPage,
  countsAsUnread,
  MAX_HISTORY_PAGE,
  mergeChatState,
  messageStatus,
  noChatState,
} from './mls/mls-store.ts';
export { knownContentTypes, readContent, writeContent } from './content/content-registry.ts';
export type { AnyContent } from './content/content-registry.ts';
export type { ContentType, DecodedContent } from './content/content-type.ts';
export type { ReceiptContent, ReceiptStatus } from './content/receipt-content.ts';
export type { TextContent } from './content/text-content.ts';
