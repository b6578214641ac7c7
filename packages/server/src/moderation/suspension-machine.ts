import { CourierError } from '@courier/protocol';

/**
 * An account's suspension as a state machine. Suspending and lifting a suspension each take two
 * distinct staff members: one proposes, a different one approves; either step of a proposal can be
 * withdrawn by any moderator. While a lift is proposed the account stays suspended.
 */
export type SuspensionState =
  | { kind: 'active' }
  | { kind: 'proposed'; by: string; at: number; reportId: string | null }
  | { kind: 'suspended'; since: number; reportId: string | null }
  | { kind: 'lift_proposed'; by: string; at: number; since: number; reportId: string | null };

export type SuspensionEvent =
  | { kind: 'propose'; staff: string; at: number; reportId: string | null }
  | { kind: 'propose_lift'; staff: string; at: number }
  | { kind: 'approve'; staff: string; at: number }
  | { kind: 'withdraw'; staff: string; at: number };

/** What a transition did to the account: it became suspended, or its suspension was lifted. */
export type SuspensionEffect = 'suspended' | 'lifted' | null;

export const ACTIVE: SuspensionState = { kind: 'active' };

/** Is the account refused (sign-in, connect, send) in this state? */
export const isSuspended = (state: SuspensionState): boolean =>
  state.kind === 'suspended' || state.kind === 'lift_proposed';

/**
 * The next state, or a typed error: MODERATION_SAME_STAFF when the approver is the proposer,
 * MODERATION_STATE when the step does not apply to the current state.
 */
export function transition(
  state: SuspensionState,
  event: SuspensionEvent,
): { state: SuspensionState; effect: SuspensionEffect } {
  const refuse = () =>
    new CourierError('MODERATION_STATE', { details: { state: state.kind, step: event.kind } });
  switch (event.kind) {
    case 'propose':
      if (state.kind !== 'active') throw refuse();
      return {
        state: { kind: 'proposed', by: event.staff, at: event.at, reportId: event.reportId },
        effect: null,
      };
    case 'propose_lift':
      if (state.kind !== 'suspended') throw refuse();
      return {
        state: {
          kind: 'lift_proposed',
          by: event.staff,
          at: event.at,
          since: state.since,
          reportId: state.reportId,
        },
        effect: null,
      };
    case 'approve':
      if (state.kind !== 'proposed' && state.kind !== 'lift_proposed') throw refuse();
      if (state.by === event.staff) throw new CourierError('MODERATION_SAME_STAFF');
      return state.kind === 'proposed'
        ? { state: { kind: 'suspended', since: event.at, reportId: state.reportId }, effect: 'suspended' }
        : { state: ACTIVE, effect: 'lifted' };
    case 'withdraw':
      if (state.kind === 'proposed') return { state: ACTIVE, effect: null };
      if (state.kind === 'lift_proposed')
        return { state: { kind: 'suspended', since: state.since, reportId: state.reportId }, effect: null };
      throw refuse();
  }
}
