import {
  type ClientState,
  defaultKeyPackageEqualityConfig,
  defaultKeyRetentionConfig,
  defaultLifetimeConfig,
  defaultPaddingConfig,
  encode,
  type MlsContext,
  mlsMessageEncoder,
  type Proposal,
  type ProposalOrRef,
  proposalOrRefTypes,
  protocolVersions,
  senderTypes,
  wireformats,
} from 'ts-mls';
import {
  applyProposals,
  createConfirmationTag,
  createContentCommitSignature,
  initializeEpoch,
  makePskIndex,
  nextEpochContext,
  protectPublicMessage,
  treeHashRoot,
} from './ts-mls-internal.ts';

/**
 * TEST ONLY. Builds a correctly signed, membership-tagged and confirmation-tagged PublicMessage commit of
 * `proposals` WITHOUT an UpdatePath, the way unpatched ts-mls 2.0.0-rc.10 built a single-Remove commit.
 * Everything about it is valid except that RFC 9420 §12.4 may require a path, so it isolates that rule.
 * Returns the encoded MLSMessage.
 */
export async function dangerouslyForgePathlessCommit(
  context: MlsContext,
  state: ClientState,
  proposals: Proposal[],
): Promise<Uint8Array> {
  const cs = context.cipherSuite;
  const byValue: ProposalOrRef[] = proposals.map((proposal) => ({
    proposalOrRefType: proposalOrRefTypes.proposal,
    proposal,
  }));
  const ownLeaf = state.privatePath.leafIndex;
  const mutableTree = state.ratchetTree.slice();
  const applied = await applyProposals(
    state,
    mutableTree,
    byValue,
    ownLeaf as Parameters<typeof applyProposals>[3],
    makePskIndex(state, {}),
    true,
    {
      keyRetentionConfig: defaultKeyRetentionConfig,
      lifetimeConfig: defaultLifetimeConfig,
      keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
      paddingConfig: defaultPaddingConfig,
    },
    context.authService,
    cs,
  );
  const extensions =
    applied.additionalResult.kind === 'memberCommit' && applied.additionalResult.extensions.length > 0
      ? applied.additionalResult.extensions
      : state.groupContext.extensions;
  const { signature, framedContent } = await createContentCommitSignature(
    state.groupContext,
    'mls_public_message',
    { proposals: byValue, path: undefined },
    { senderType: senderTypes.member, leafIndex: ownLeaf },
    new Uint8Array(),
    state.signaturePrivateKey,
    cs.signature,
  );
  const nextContext = await nextEpochContext(
    { ...state.groupContext, extensions },
    'mls_public_message',
    framedContent as Parameters<typeof nextEpochContext>[2],
    signature,
    await treeHashRoot(mutableTree, cs.hash),
    state.confirmationTag,
    cs.hash,
  );
  const epoch = await initializeEpoch(
    state.keySchedule.initSecret,
    new Uint8Array(cs.kdf.size),
    nextContext,
    applied.pskSecret,
    cs.kdf,
  );
  const confirmationTag = await createConfirmationTag(
    epoch.keySchedule.confirmationKey,
    nextContext.confirmedTranscriptHash,
    cs.hash,
  );
  const publicMessage = await protectPublicMessage(
    state.keySchedule.membershipKey,
    state.groupContext,
    {
      wireformat: wireformats.mls_public_message,
      content: framedContent,
      auth: { contentType: framedContent.contentType, signature, confirmationTag },
    } as Parameters<typeof protectPublicMessage>[2],
    cs,
  );
  return encode(mlsMessageEncoder, {
    version: protocolVersions.mls10,
    wireformat: wireformats.mls_public_message,
    publicMessage,
  });
}
