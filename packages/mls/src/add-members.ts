import { defaultProposalTypes, type Proposal } from 'ts-mls';
import { commitProposals } from './commit-proposals.ts';
import type { CommitResult } from './commit-result.ts';
import { decodeKeyPackageMessage } from './key-package.ts';
import type { MlsClientContext } from './mls-context.ts';
import { MlsError } from './mls-error.ts';
import type { MlsGroup } from './mls-group.ts';

/**
 * Most Add proposals in one commit. The library checks new key packages pairwise for duplicates, so
 * one huge add commit is quadratic; batches keep a 5,000-member group workable (MLS-NOTES.md).
 */
export const MAX_ADDS_PER_COMMIT = 500;

/**
 * Adds members by their key packages (MLSMessage bytes), in commits of at most MAX_ADDS_PER_COMMIT
 * (or `maxPerCommit`, when smaller). With `treeInWelcome`, each Welcome also carries the ratchet tree
 * (the `ratchet_tree` extension), for joiners that are not served the tree apart (other MLS clients).
 * Returns one CommitResult per commit, in order, each building on the previous one's group: send them
 * one after another, adopting each `group` only once the server accepted that commit.
 */
export async function addMembers(
  context: MlsClientContext,
  group: MlsGroup,
  keyPackages: readonly Uint8Array[],
  options: { maxPerCommit?: number; treeInWelcome?: boolean } = {},
): Promise<CommitResult[]> {
  if (keyPackages.length === 0) throw new MlsError('MLS_INVALID_ARGUMENT', 'no key packages to add');
  const perCommit = Math.min(options.maxPerCommit ?? MAX_ADDS_PER_COMMIT, MAX_ADDS_PER_COMMIT);
  if (!Number.isInteger(perCommit) || perCommit < 1) {
    throw new MlsError('MLS_INVALID_ARGUMENT', 'maxPerCommit is a positive integer');
  }
  const proposals: Proposal[] = keyPackages.map((bytes) => ({
    proposalType: defaultProposalTypes.add,
    add: { keyPackage: decodeKeyPackageMessage(bytes) },
  }));
  const results: CommitResult[] = [];
  let current = group;
  for (let start = 0; start < proposals.length; start += perCommit) {
    const batch = proposals.slice(start, start + perCommit);
    const result = await commitProposals(context, current, batch, `${batch.length} add(s)`, {
      treeInWelcome: options.treeInWelcome ?? false,
    });
    results.push(result);
    current = result.group;
  }
  return results;
}
