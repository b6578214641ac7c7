import { createCommit, encode, mlsMessageEncoder, type Proposal } from 'ts-mls';
import type { CommitResult } from './commit-result.ts';
import type { MlsClientContext } from './mls-context.ts';
import { MlsError, toMlsError } from './mls-error.ts';
import { exportRatchetTree, type MlsGroup, wrapGroup } from './mls-group.ts';

/** @internal Commits proposals by value as a PublicMessage; the patched library adds the UpdatePath RFC 9420 §12.4 requires. */
export async function commitProposals(
  context: MlsClientContext,
  group: MlsGroup,
  proposals: Proposal[],
  what: string,
  options: { treeInWelcome?: boolean } = {},
): Promise<CommitResult> {
  if (!group.active) throw new MlsError('MLS_NOT_MEMBER', 'this device is no longer a member of the group');
  try {
    const result = await createCommit({
      context: context.library,
      state: group.state,
      extraProposals: proposals,
      wireAsPublicMessage: true,
      ratchetTreeExtension: options.treeInWelcome ?? false,
    });
    const next = wrapGroup(result.newState);
    return {
      group: next,
      commit: encode(mlsMessageEncoder, result.commit),
      welcome: result.welcome === undefined ? undefined : encode(mlsMessageEncoder, result.welcome),
      ratchetTree: result.welcome === undefined ? undefined : exportRatchetTree(next),
      consumed: result.consumed,
    };
  } catch (cause) {
    throw toMlsError('MLS_OPERATION_FAILED', `could not commit ${what}`, cause);
  }
}
