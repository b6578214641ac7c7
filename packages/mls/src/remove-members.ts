import { defaultProposalTypes, type Proposal } from 'ts-mls';
import { commitProposals } from './commit-proposals.ts';
import type { CommitResult } from './commit-result.ts';
import type { MlsClientContext } from './mls-context.ts';
import { MlsError } from './mls-error.ts';
import { groupMemberAt, type MlsGroup } from './mls-group.ts';

/** Removes the members at these leaves in one commit (with an UpdatePath, so they cannot read on). */
export async function removeMembers(
  context: MlsClientContext,
  group: MlsGroup,
  leafIndexes: readonly number[],
): Promise<CommitResult> {
  if (leafIndexes.length === 0) throw new MlsError('MLS_INVALID_ARGUMENT', 'no members to remove');
  if (new Set(leafIndexes).size !== leafIndexes.length) {
    throw new MlsError('MLS_INVALID_ARGUMENT', 'a member is named twice');
  }
  for (const leaf of leafIndexes) {
    if (leaf === group.ownLeafIndex) {
      throw new MlsError(
        'MLS_INVALID_ARGUMENT',
        'a device cannot remove itself by commit; another member must',
      );
    }
    if (!Number.isInteger(leaf) || groupMemberAt(group, leaf) === undefined) {
      throw new MlsError('MLS_INVALID_ARGUMENT', `leaf ${leaf} is not a member`);
    }
  }
  const proposals: Proposal[] = leafIndexes.map((removed) => ({
    proposalType: defaultProposalTypes.remove,
    remove: { removed },
  }));
  return commitProposals(context, group, proposals, `${leafIndexes.length} removal(s)`);
}
