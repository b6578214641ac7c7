/**
 * @courier/mls — the one wrapper over ts-mls 2.0.0-rc.10 (patched: patches/ts-mls+2.0.0-rc.10.patch).
 * Client operations for the SDK, and secret-free checks of handshake messages for the server.
 */

export { addMembers, MAX_ADDS_PER_COMMIT } from './add-members.ts';
export { DEFAULT_CIPHERSUITE, loadCiphersuite } from './ciphersuite.ts';
export type { CommitResult } from './commit-result.ts';
export { createGroup } from './create-group.ts';
export {
  type DeviceIdentity,
  deviceCredential,
  encodeDeviceIdentity,
  generateDeviceIdentity,
  parseDeviceIdentity,
} from './device-identity.ts';
export { type EncryptResult, encryptMessage } from './encrypt-message.ts';
export { eraseSecrets } from './erase-secrets.ts';
export { exportSecret } from './export-secret.ts';
export {
  applyGroupStateChange,
  exportGroupState,
  exportGroupStateParts,
  GROUP_STATE_VERSION,
  type GroupStateChange,
  type GroupStateParts,
  groupStateChange,
  importGroupState,
  importGroupStateParts,
  joinGroupState,
  splitGroupState,
  TREE_PAGE_NODES,
} from './group-state-codec.ts';
export {
  assertUpdatePathRule,
  type HandshakeSender,
  type HandshakeSummary,
  inspectHandshake,
  type ProposalSummary,
} from './inspect-handshake.ts';
export { type JoinResult, joinGroup } from './join-group.ts';
export {
  courierCapabilities,
  createKeyPackage,
  LAST_RESORT_EXTENSION_TYPE,
  type StoredKeyPackage,
} from './key-package.ts';
export { type CredentialValidator, createMlsClientContext, type MlsClientContext } from './mls-context.ts';
export { MLS_ERROR_CODES, MlsError, type MlsErrorCode } from './mls-error.ts';
export {
  exportRatchetTree,
  type GroupMember,
  groupMemberAt,
  groupMembers,
  type MlsGroup,
} from './mls-group.ts';
export { type IncomingFailureCode, type IncomingOutcome, processMessage } from './process-message.ts';
export { removeMembers } from './remove-members.ts';
export { type ProposalKind, requiresUpdatePath } from './requires-update-path.ts';
export { selfUpdate } from './self-update.ts';
export {
  type ApplicationHeader,
  DEFAULT_CIPHERSUITE_ID,
  inspectApplicationMessage,
  inspectKeyPackage,
  inspectRatchetTree,
  type KeyPackageSummary,
  type TreeLeaf,
} from './inspect-public.ts';
export { opaqueApplicationMessage, opaqueBody, opaqueOverhead } from './opaque-envelope.ts';
export { addedKeyPackageRefs, splitWelcome } from './welcome-split.ts';
