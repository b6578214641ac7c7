/**
 * ts-mls internals that its package `exports` map does not publish, reached by file path. Only tests and
 * the test-only commit forger use them (the test vectors need tree math, key schedule and codec pieces;
 * the regression test needs to build a commit the patched library would refuse to create). Production
 * code in this package uses the public `ts-mls` entry point only.
 *
 * The path assumes npm workspaces hoist ts-mls to the repository's root `node_modules`, as they do here.
 */
export { authenticatedContentDecoder } from '../../../node_modules/ts-mls/dist/src/authenticatedContent.js';
export {
  applyProposals,
  makePskIndex,
  nextEpochContext,
  validateLeafNodeCredentialAndKeyUniqueness,
  validateRatchetTree,
} from '../../../node_modules/ts-mls/dist/src/clientState.js';
export { applyUpdatePathSecret } from '../../../node_modules/ts-mls/dist/src/createCommit.js';
export { makeHashImpl } from '../../../node_modules/ts-mls/dist/src/crypto/implementation/noble/makeHashImpl.js';
export {
  makeKdf,
  makeKdfImpl,
} from '../../../node_modules/ts-mls/dist/src/crypto/implementation/default/makeKdfImpl.js';
export { ciphersuiteValues } from '../../../node_modules/ts-mls/dist/src/crypto/ciphersuite.js';
export {
  deriveSecret,
  deriveTreeSecret,
  expandWithLabel,
} from '../../../node_modules/ts-mls/dist/src/crypto/kdf.js';
export { refhash } from '../../../node_modules/ts-mls/dist/src/crypto/hash.js';
export {
  createConfirmationTag,
  createContentCommitSignature,
} from '../../../node_modules/ts-mls/dist/src/framedContent.js';
export { initializeEpoch } from '../../../node_modules/ts-mls/dist/src/keySchedule.js';
export { protectPublicMessage } from '../../../node_modules/ts-mls/dist/src/messageProtectionPublic.js';
export { treeHashRoot } from '../../../node_modules/ts-mls/dist/src/treeHash.js';
export { signWithLabel, verifyWithLabel } from '../../../node_modules/ts-mls/dist/src/crypto/signature.js';
export { decryptWithLabel, encryptWithLabel } from '../../../node_modules/ts-mls/dist/src/crypto/hpke.js';
export { groupContextEncoder } from '../../../node_modules/ts-mls/dist/src/groupContext.js';
export { mlsExporter } from '../../../node_modules/ts-mls/dist/src/keySchedule.js';
export { expandSenderDataKey, expandSenderDataNonce } from '../../../node_modules/ts-mls/dist/src/sender.js';
export { createSecretTree, ratchetToGeneration } from '../../../node_modules/ts-mls/dist/src/secretTree.js';
export {
  createConfirmedHash,
  createInterimHash,
} from '../../../node_modules/ts-mls/dist/src/transcriptHash.js';
export {
  directPath,
  leafToNodeIndex,
  leafWidth,
  left,
  nodeWidth,
  parent,
  right,
  root,
  sibling,
  toLeafIndex,
  toNodeIndex,
} from '../../../node_modules/ts-mls/dist/src/treemath.js';
export {
  verifyGroupInfoConfirmationTag,
  verifyGroupInfoSignature,
} from '../../../node_modules/ts-mls/dist/src/groupInfo.js';
export { decryptGroupInfo, decryptGroupSecrets } from '../../../node_modules/ts-mls/dist/src/welcome.js';
export {
  addLeafNodeMutable,
  removeLeafNodeMutable,
  updateLeafNodeMutable,
} from '../../../node_modules/ts-mls/dist/src/ratchetTree.js';
export { proposalDecoder, proposalEncoder } from '../../../node_modules/ts-mls/dist/src/proposal.js';
export {
  applyUpdatePath,
  createUpdatePath,
  updatePathDecoder,
} from '../../../node_modules/ts-mls/dist/src/updatePath.js';
export { toPrivateKeyPath } from '../../../node_modules/ts-mls/dist/src/privateKeyPath.js';
export { filteredDirectPath } from '../../../node_modules/ts-mls/dist/src/ratchetTree.js';
export {
  addDecoder,
  addEncoder,
  externalInitDecoder,
  externalInitEncoder,
  groupContextExtensionsDecoder,
  groupContextExtensionsEncoder,
  pskDecoder,
  pskEncoder,
  reinitDecoder,
  reinitEncoder,
  removeDecoder,
  removeEncoder,
  updateDecoder,
  updateEncoder,
} from '../../../node_modules/ts-mls/dist/src/proposal.js';
export {
  groupSecretsDecoder,
  groupSecretsEncoder,
} from '../../../node_modules/ts-mls/dist/src/groupSecrets.js';
export { commitDecoder, commitEncoder } from '../../../node_modules/ts-mls/dist/src/commit.js';
export { determineLength } from '../../../node_modules/ts-mls/dist/src/codec/variableLength.js';
export { unprotectPrivateMessage } from '../../../node_modules/ts-mls/dist/src/messageProtection.js';
export { unprotectPublicMessage } from '../../../node_modules/ts-mls/dist/src/messageProtectionPublic.js';
export {
  treeHashesOf,
  treeHashUncached,
  treeHashWithoutLeaves,
} from '../../../node_modules/ts-mls/dist/src/treeHash.js';
export { verifyParentHashes } from '../../../node_modules/ts-mls/dist/src/parentHash.js';
export { removeLeaves } from '../../../node_modules/ts-mls/dist/src/ratchetTree.js';
export { uint16Decoder, uint32Decoder } from '../../../node_modules/ts-mls/dist/src/codec/number.js';
