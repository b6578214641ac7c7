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
