export { CourierHttp } from './http-client.ts';
export { CourierConnection } from './connection.ts';
export type { Accepted, ConnectionEvents, ConnectionOptions, ConnectionState } from './connection.ts';
export { MemoryClientStore } from './client-store.ts';
export type { ClientStore, OutboxItem } from './client-store.ts';
export { randomClientMsgId } from './random-id.ts';
export { defaultSocketFactory } from './websocket-like.ts';
export type { SocketFactory, WebSocketLike } from './websocket-like.ts';
export { RECEIPT_MAX_DEVICES, SecureClient, storedChatReceipts } from './mls/secure-client.ts';
export type { ChatReceipts, SecureClientEvents, SecureClientOptions } from './mls/secure-client.ts';
export { receiptsOffText } from './receipts/read-sync.ts';
export { MemoryMlsStore } from './mls/mls-store.ts';
export {
  encodePendingCommit,
  type PendingSubmission,
  readPendingCommit,
  readPendingSubmission,
} from './mls/pending-commit.ts';
export type {
  GroupRecord,
  GroupSave,
  GroupSaveExtras,
  ChatCursor,
  KnownGroupState,
  MlsStore,
  PendingCommit,
  StashedEntry,
  StoredIdentity,
  StoredMessage,
} from './mls/mls-store.ts';
export { decodeContent, encodeContent, MAX_TEXT_LENGTH } from './mls/message-content.ts';
export type { MessageContent } from './mls/message-content.ts';
export type { KeyChange } from './mls/device-directory.ts';
export { type ChatGlanceRead, IndexedDbMlsStore } from './mls/indexeddb-store.ts';
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
export { draftReport, isReportReason } from './report/report-draft.ts';
export type { ReportChoice, ReportDraft } from './report/report-draft.ts';
export {
  ChunkCipher,
  chunkCipherOffset,
  chunkNonce,
  chunkPlainLength,
  FILE_KEY_BYTES,
  generateFileKey,
} from './media/chunk-cipher.ts';
export { ChunkDecryptor } from './media/chunk-decryptor.ts';
export { chunkRangeFor } from './media/chunk-range.ts';
export type { ChunkRange } from './media/chunk-range.ts';
export { EncryptingSource } from './media/encrypting-source.ts';
export {
  MAX_FILE_NAME_LENGTH,
  MAX_MIME_LENGTH,
  MAX_PREVIEW_BYTES,
  parseFileDescriptor,
} from './media/file-descriptor.ts';
export type { FileDescriptor } from './media/file-descriptor.ts';
export {
  DEFAULT_UPLOAD_REQUEST_BYTES,
  deleteUpload,
  describeUpload,
  downloadDecryptedFile,
  uploadEncryptedChannelFile,
  uploadEncryptedFile,
} from './media/media-transfer.ts';
export type { DownloadOptions, MediaEndpoint, UploadedBlob, UploadOptions } from './media/media-transfer.ts';
export { blobSource, bytesSource } from './media/plaintext-source.ts';
export type { PlaintextSource } from './media/plaintext-source.ts';
export type {
  ChatState,
  HistoryCursor,
  HistoryPage,
  MessageStatus,
} from './mls/mls-store.ts';
export {
  changedState,
  checkChange,
  checkPage,
  countsAsUnread,
  incompleteState,
  isKnown,
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
export {
  actionOf,
  applyAction,
  inLogOrder,
  MAX_EDIT_HISTORY,
  MAX_REACTION_KINDS,
  mayApply,
} from './actions/message-action.ts';
export type { MessageAction } from './actions/message-action.ts';
export { DELETE_FOR_EVERYONE_NOTICE } from './actions/delete-notice.ts';
export type { MessageRef } from './content/message-ref.ts';
export { isRefOf, parseMessageRef, refOf } from './content/message-ref.ts';
export type { ReplyContent } from './content/reply-content.ts';
export { MAX_QUOTE_LENGTH } from './content/reply-content.ts';
export type { ForwardContent } from './content/forward-content.ts';
export type { EditContent } from './content/edit-content.ts';
export type { DeleteContent } from './content/delete-content.ts';
export type { ReactionContent } from './content/reaction-content.ts';
export { isEmoji, MAX_EMOJI_LENGTH } from './content/reaction-content.ts';
export type { ActionContent } from './content/content-registry.ts';
export type { Reaction } from './mls/mls-store.ts';
export { parseStickerRef } from './content/sticker-content.ts';
export type { StickerContent, StickerRef } from './content/sticker-content.ts';
export { pickSticker, StickerApi, stickerMimeOfName } from './stickers/sticker-api.ts';
export { packOfLink, StickerShelf } from './stickers/sticker-shelf.ts';
export type { ShelfStorage } from './stickers/sticker-shelf.ts';
export {
  ChannelClient,
  channelFileOf,
  channelKeyText,
  newChannelPostId,
  OWN_DEVICES_CHAT_TITLE,
} from './channels/channel-client.ts';
export type {
  ChannelClientEvents,
  ChannelFileOptions,
  ChannelKeyChange,
  ChannelKeyHandover,
  ChannelKeyOutcome,
  ChannelPost,
} from './channels/channel-client.ts';
export type { ChannelKeyContent } from './content/channel-key-content.ts';
export { handoverKey, MemoryChannelKeyring } from './channels/channel-keyring.ts';
export type { ChannelKeyring, HeldChannelKeyHandover } from './channels/channel-keyring.ts';
