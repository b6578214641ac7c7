import { CourierError } from '@courier/protocol';
import { DEFAULT_APPEAL } from '../config.ts';
import type { Stores, SuspensionRow } from '../storage/ports.ts';

/** Suspended in this row's state (a proposal to suspend is not yet a suspension; a proposed lift still is). */
export const rowSuspends = (row: SuspensionRow | undefined): row is SuspensionRow =>
  row !== undefined && (row.state === 'suspended' || row.state === 'lift_proposed');

/**
 * Where sign-in and authentication ask whether an account is suspended, and the one error that
 * says so: ACCOUNT_SUSPENDED with the time and how to appeal.
 */
export class SuspensionGate {
  constructor(private readonly appeal: string = DEFAULT_APPEAL) {}

  error(row: Pick<SuspensionRow, 'suspendedAt'>): CourierError {
    return new CourierError('ACCOUNT_SUSPENDED', {
      details: { suspendedAtMs: row.suspendedAt, appeal: this.appeal },
    });
  }

  /** Throws ACCOUNT_SUSPENDED when the account is suspended. */
  async refuseIfSuspended(stores: Pick<Stores, 'suspensions'>, accountId: string): Promise<void> {
    const row = await stores.suspensions.byAccount(accountId);
    if (rowSuspends(row)) throw this.error(row);
  }

  /**
   * For a token no session has (only on that failure path, so no cost on the hot path): when a
   * suspension ended its session, ACCOUNT_SUSPENDED; otherwise undefined (the token is unknown).
   */
  async explainUnknownToken(
    stores: Pick<Stores, 'suspensions'>,
    tokenHash: string,
  ): Promise<CourierError | undefined> {
    const accountId = await stores.suspensions.suspendedSession(tokenHash);
    if (accountId === undefined) return undefined;
    const row = await stores.suspensions.byAccount(accountId);
    return rowSuspends(row) ? this.error(row) : undefined;
  }
}
