import {
  contentTypes,
  defaultProposalTypes,
  type MlsMessage,
  mlsMessageDecoder,
  type Proposal,
  type ProposalOrRef,
  proposalOrRefTypes,
  senderTypes,
  wireformats,
} from 'ts-mls';
import { parseDeviceIdentity } from './device-identity.ts';
import { MlsError } from './mls-error.ts';
import { type ProposalKind, requiresUpdatePath } from './requires-update-path.ts';

/** One proposal of a handshake message, as the delivery service sees it (public data only). */
export type ProposalSummary =
  | {
      readonly kind: 'add';
      /** Credential identity of the added key package (`<accountId>:<deviceId>` for Courier devices). */
      readonly identity: Uint8Array;
      readonly accountId: string | undefined;
      readonly deviceId: string | undefined;
      readonly signaturePublicKey: Uint8Array;
      readonly cipherSuite: number;
    }
  | { readonly kind: 'remove'; readonly removedLeafIndex: number }
  | { readonly kind: 'reference'; readonly ref: Uint8Array }
  | { readonly kind: 'custom'; readonly proposalType: number }
  | { readonly kind: Exclude<ProposalKind, 'add' | 'remove' | 'reference' | 'custom'> };

/** Who sent a handshake message. */
export type HandshakeSender =
  | { readonly kind: 'member'; readonly leafIndex: number }
  | { readonly kind: 'external'; readonly senderIndex: number }
  | { readonly kind: 'new_member_proposal' }
  | { readonly kind: 'new_member_commit' };

/** The public facts of a PublicMessage commit or proposal. */
export interface HandshakeSummary {
  readonly groupId: Uint8Array;
  readonly epoch: bigint;
  readonly contentType: 'commit' | 'proposal';
  readonly sender: HandshakeSender;
  /** The sender's leaf when it is a member, else undefined. */
  readonly senderLeafIndex: number | undefined;
  /** The commit's proposals in order, or the one proposal of a proposal message. */
  readonly proposals: readonly ProposalSummary[];
  /** Whether a commit carries an UpdatePath (always false for a proposal). */
  readonly hasUpdatePath: boolean;
}

const kindByType = new Map<number, ProposalKind>(
  Object.entries(defaultProposalTypes).map(([name, value]) => [value, name as ProposalKind]),
);

function summarizeProposal(proposal: Proposal): ProposalSummary {
  if (proposal.proposalType === defaultProposalTypes.add && 'add' in proposal) {
    const keyPackage = proposal.add.keyPackage;
    const credential = keyPackage.leafNode.credential;
    const identity = 'identity' in credential ? credential.identity : new Uint8Array();
    const parsed = parseDeviceIdentity(identity);
    return {
      kind: 'add',
      identity,
      accountId: parsed?.accountId,
      deviceId: parsed?.deviceId,
      signaturePublicKey: keyPackage.leafNode.signaturePublicKey,
      cipherSuite: keyPackage.cipherSuite,
    };
  }
  if (proposal.proposalType === defaultProposalTypes.remove && 'remove' in proposal) {
    return { kind: 'remove', removedLeafIndex: proposal.remove.removed };
  }
  const kind = kindByType.get(proposal.proposalType);
  if (
    kind === undefined ||
    kind === 'add' ||
    kind === 'remove' ||
    kind === 'reference' ||
    kind === 'custom'
  ) {
    return { kind: 'custom', proposalType: proposal.proposalType };
  }
  return { kind };
}

function summarizeProposalOrRef(item: ProposalOrRef): ProposalSummary {
  return item.proposalOrRefType === proposalOrRefTypes.reference
    ? { kind: 'reference', ref: item.reference }
    : summarizeProposal(item.proposal);
}

function decodeMessage(bytes: Uint8Array): MlsMessage {
  let decoded: ReturnType<typeof mlsMessageDecoder>;
  try {
    decoded = mlsMessageDecoder(bytes, 0);
  } catch (cause) {
    throw new MlsError('MLS_MALFORMED', 'the message could not be decoded', { cause });
  }
  if (decoded === undefined) throw new MlsError('MLS_MALFORMED', 'the message could not be decoded');
  if (decoded[1] !== bytes.length) throw new MlsError('MLS_MALFORMED', 'the message has trailing bytes');
  return decoded[0];
}

/**
 * Decodes a handshake message without any key: the server's delivery service uses it to check
 * commits and proposals (epoch, sender, proposals, UpdatePath present) before storing them.
 * Throws only MlsError: MLS_MALFORMED, MLS_NOT_PUBLIC_MESSAGE (a PrivateMessage) or
 * MLS_UNEXPECTED_MESSAGE (a Welcome, GroupInfo, KeyPackage, or application data in a PublicMessage).
 * It does not verify signatures or the membership tag (that needs the group's tree and keys).
 */
export function inspectHandshake(bytes: Uint8Array): HandshakeSummary {
  const message = decodeMessage(bytes);
  if (message.wireformat === wireformats.mls_private_message) {
    throw new MlsError('MLS_NOT_PUBLIC_MESSAGE', 'a handshake message must be a PublicMessage');
  }
  if (message.wireformat !== wireformats.mls_public_message) {
    throw new MlsError('MLS_UNEXPECTED_MESSAGE', 'expected a commit or proposal in a PublicMessage');
  }
  try {
    const content = message.publicMessage.content;
    const sender: HandshakeSender =
      content.sender.senderType === senderTypes.member
        ? { kind: 'member', leafIndex: content.sender.leafIndex }
        : content.sender.senderType === senderTypes.external
          ? { kind: 'external', senderIndex: content.sender.senderIndex }
          : content.sender.senderType === senderTypes.new_member_commit
            ? { kind: 'new_member_commit' }
            : { kind: 'new_member_proposal' };
    const base = {
      groupId: content.groupId,
      epoch: content.epoch,
      sender,
      senderLeafIndex: sender.kind === 'member' ? sender.leafIndex : undefined,
    };
    if (content.contentType === contentTypes.commit) {
      return {
        ...base,
        contentType: 'commit',
        proposals: content.commit.proposals.map(summarizeProposalOrRef),
        hasUpdatePath: content.commit.path !== undefined,
      };
    }
    if (content.contentType === contentTypes.proposal) {
      return {
        ...base,
        contentType: 'proposal',
        proposals: [summarizeProposal(content.proposal)],
        hasUpdatePath: false,
      };
    }
  } catch (cause) {
    throw new MlsError('MLS_MALFORMED', 'the handshake message has an unexpected shape', { cause });
  }
  throw new MlsError('MLS_UNEXPECTED_MESSAGE', 'application data must travel in a PrivateMessage');
}

/**
 * Throws MLS_MISSING_UPDATE_PATH when a commit lacks the UpdatePath RFC 9420 §12.4 requires for its
 * proposals (see `requiresUpdatePath`). Proposals are checked as given; resolve references first.
 */
export function assertUpdatePathRule(summary: HandshakeSummary): void {
  if (summary.contentType === 'commit' && !summary.hasUpdatePath && requiresUpdatePath(summary.proposals)) {
    throw new MlsError(
      'MLS_MISSING_UPDATE_PATH',
      'this commit needs an UpdatePath (it is empty or covers an update, remove or other path-required proposal)',
    );
  }
}
