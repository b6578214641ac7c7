import { commitProposals } from './commit-proposals.ts';
import type { CommitResult } from './commit-result.ts';
import type { MlsClientContext } from './mls-context.ts';
import type { MlsGroup } from './mls-group.ts';

/** Renews this device's keys with an empty commit carrying an UpdatePath (post-compromise security). */
export function selfUpdate(context: MlsClientContext, group: MlsGroup): Promise<CommitResult> {
  return commitProposals(context, group, [], 'a self-update');
}
