/** The kinds of proposal a commit can cover, as `inspectHandshake` reports them. */
export type ProposalKind =
  | 'add'
  | 'update'
  | 'remove'
  | 'psk'
  | 'reinit'
  | 'external_init'
  | 'group_context_extensions'
  | 'custom'
  /** A proposal by reference: its kind is only known from the proposal message it refers to. */
  | 'reference';

/** RFC 9420 §17.4 "Path Required" = N: the only proposal types a path-less commit may cover. */
const PATH_OPTIONAL: ReadonlySet<ProposalKind> = new Set<ProposalKind>(['add', 'psk', 'reinit']);

/**
 * RFC 9420 §12.4: "By default, the path field of a Commit MUST be populated. The path field MAY be omitted
 * if (a) it covers at least one proposal and (b) none of the proposals covered by the Commit are of
 * 'path required' types" — everything but add, psk and reinit, including types unknown to us.
 *
 * A proposal by reference counts as path-required unless the caller resolved it to its kind first (the
 * delivery service can, from the proposal messages of the epoch): rejecting is the safe side.
 */
export function requiresUpdatePath(proposals: readonly { readonly kind: ProposalKind }[]): boolean {
  return proposals.length === 0 || proposals.some((proposal) => !PATH_OPTIONAL.has(proposal.kind));
}
