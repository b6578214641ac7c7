import type { MlsGroup } from './mls-group.ts';

/** What a commit this device made produces. Send `commit` first; only once the server accepted it, adopt `group`. */
export interface CommitResult {
  /** The group at the new epoch. */
  readonly group: MlsGroup;
  /** MLSMessage bytes of the commit (a PublicMessage, so the delivery service can check it). */
  readonly commit: Uint8Array;
  /** MLSMessage bytes of the Welcome for added members, when the commit adds any. */
  readonly welcome: Uint8Array | undefined;
  /** The new epoch's ratchet tree for the joiners (served apart from the Welcome), when there is a Welcome. */
  readonly ratchetTree: Uint8Array | undefined;
  /** Secrets of the old epoch to erase (see `eraseSecrets`) once `group` is adopted and persisted. */
  readonly consumed: Uint8Array[];
}
