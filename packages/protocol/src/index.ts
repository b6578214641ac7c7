export { CourierError, closeCodes, errorCatalog, endsSession, isErrorCode } from './errors.ts';
export type { ErrorCode, ErrorEnvelope } from './errors.ts';
export { isClientMsgId, isId, newId } from './ids.ts';
export type { AccountId, Brand, ChannelId, DeviceId, GroupId } from './ids.ts';
export {
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_MEMBER_CAP,
  GATEWAY_PATH,
  MAX_DISPLAY_NAME_LENGTH,
  MAX_FRAME_BYTES,
  MAX_GROUP_TITLE_LENGTH,
  PROTOCOL_VERSION,
  UNSAFE_TEXT_PATTERN,
  USERNAME_PATTERN,
} from './limits.ts';
export {
  decodeClientFrame,
  decodeMlsWelcome,
  decodeRosterEvent,
  decodeServerFrame,
  encodeClientFrame,
  encodeMlsWelcome,
  encodeRosterEvent,
  encodeServerFrame,
} from './frames.ts';
export type {
  ChannelPostedFrame,
  ClientFrame,
  EntryFrame,
  EntryType,
  MailboxItemFrame,
  MailboxType,
  MlsWelcomeItem,
  PushedChannelPost,
  RosterActionName,
  RosterEvent,
  ServerFrame,
} from './frames.ts';
export type {
  AcceptRequestReply,
  AccountView,
  AddMembersBody,
  AuthIntent,
  Audience,
  BlocksReply,
  BlockView,
  CreateGroupBody,
  DeleteAccountBody,
  DeleteAccountReply,
  ExportJobState,
  ExportJobView,
  DeviceView,
  GroupDetailView,
  GroupKind,
  GroupRole,
  GroupView,
  HealthReply,
  MemberView,
  OpenDirectBody,
  PrivacyPolicyView,
  PrivacySettingsView,
  RequestCodeBody,
  RequestCodeReply,
  RequestsReply,
  RequestView,
  SetProfileBody,
  SetRoleBody,
  SetUsernameBody,
  UserView,
  VerifyCodeBody,
  VerifyCodeReply,
} from './http-api.ts';
export { REPORT_LIMITS, REPORT_REASONS } from './reports.ts';
export type {
  FiledReportView,
  FileReportBody,
  FileReportReply,
  ReportedMessage,
  ReportReason,
} from './reports.ts';
export {
  CheckpointError,
  checkpointBody,
  keyHash,
  openCheckpoint,
  parseVerifierKey,
  signCheckpoint,
  verifierKeyString,
} from './merkle/checkpoint.ts';
export type { Checkpoint, NoteSigner, NoteVerifier } from './merkle/checkpoint.ts';
export {
  EMPTY_ROOT,
  equalBytes,
  HASH_SIZE,
  leafHash,
  nodeHash,
  rootFromLeafHashes,
} from './merkle/merkle-hash.ts';
export {
  consistencyProof,
  inclusionProof,
  MerkleProofError,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from './merkle/merkle-proofs.ts';
export { MerkleTree } from './merkle/merkle-tree.ts';
export { canonicalJson, encodeLeaf, parseLeaf, SUSPENSION_LEAF_REASONS } from './transparency/log-leaf.ts';
export type { PublicLeaf } from './transparency/log-leaf.ts';
export { computeReport, periodBounds, periodOf, reportCsv, reportPeriods } from './transparency/report.ts';
export type { CountryRow, PeriodSummary, TransparencyReport } from './transparency/report.ts';
export {
  deviceCertificateMessage,
  fromBase64,
  signDeviceCertificate,
  toBase64,
  verifyDeviceCertificate,
  verifyDeviceCertificateAsync,
} from './mls-api.ts';
export type {
  ClaimedKeyPackage,
  ClaimKeyPackagesBody,
  ClaimKeyPackagesReply,
  DeviceCertificate,
  DeviceCertificatesReply,
  KeyPackageStockReply,
  MlsGroupView,
  MlsLeafView,
  RatchetTreeReply,
  RegisterCredentialBody,
  ServerKeyReply,
  SubmitCommitBody,
  SubmitCommitReply,
  UploadKeyPackagesBody,
} from './mls-api.ts';
export {
  ENDPOINT_CLOCK_SKEW_MS,
  ENDPOINT_LINK_PREFIX,
  endpointLink,
  parseEndpoint,
  parseEndpointLink,
  parseEndpointList,
  parseEndpointTicket,
  signEndpointList,
  signEndpointTicket,
  verifyEndpointList,
  verifyEndpointTicket,
} from './endpoints/endpoint-list.ts';
export type {
  Endpoint,
  EndpointKind,
  EndpointList,
  EndpointTicket,
  SignedDocument,
  VerifyListOptions,
} from './endpoints/endpoint-list.ts';
export { ENDPOINTS_PATH, TUNNEL_PATH } from './endpoints/endpoint-paths.ts';
export {
  MEDIA_BLOB_PATH,
  MEDIA_CHUNK_CIPHERTEXT_BYTES,
  MEDIA_CHUNK_PLAINTEXT_BYTES,
  MEDIA_CHUNK_TAG_BYTES,
  MEDIA_CHANNEL_METADATA_KEY,
  MEDIA_GROUP_METADATA_KEY,
  MEDIA_UPLOAD_PATH,
  type MediaGrantBody,
  type MediaGrantReply,
  mediaChunkCount,
  mediaCiphertextSize,
  mediaPlaintextSize,
} from './media.ts';
export { decodeBase64, encodeBase64 } from './merkle/base64.ts';
export {
  isStickerEmoji,
  isStickerShortName,
  MAX_STICKER_EMOJI_LENGTH,
  MAX_STICKER_PACK_TITLE_LENGTH,
  STICKER_IMAGES_PATH,
  STICKER_LINK_PREFIX,
  STICKER_MIME_TYPES,
  STICKER_PACKS_PATH,
  STICKER_SHORT_NAME_PATTERN,
  stickerImagePath,
} from './stickers.ts';
export type { CreateStickerPackBody, StickerMime, StickerPackView, StickerView } from './stickers.ts';
export {
  CHANNEL_NAME_PATTERN,
  CHANNEL_POST_ID_PATTERN,
  channelKeyFingerprint,
  channelPostSignedBytes,
  channelPublicKeyOf,
  generateChannelKey,
  MAX_CHANNEL_DESCRIPTION_LENGTH,
  MAX_CHANNEL_PAGE,
  MAX_CHANNEL_POST_BYTES,
  MAX_CHANNEL_TITLE_LENGTH,
  signChannelPost,
  verifyChannelPost,
} from './channels/channel-post.ts';
export type {
  ChannelAdminView,
  ChannelInvitePreview,
  ChannelInviteView,
  ChannelPostBody,
  ChannelPostFields,
  ChannelPostsPage,
  ChannelPostView,
  ChannelRole,
  ChannelView,
  ChannelVisibility,
  CreateChannelBody,
  EditChannelBody,
} from './channels/channel-post.ts';
