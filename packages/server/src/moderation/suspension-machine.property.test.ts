import { CourierError } from '@courier/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACTIVE,
  isSuspended,
  type SuspensionEvent,
  type SuspensionState,
  transition,
} from './suspension-machine.ts';

const staff = fc.constantFrom('s_a', 's_b', 's_c');
const event: fc.Arbitrary<SuspensionEvent> = fc.oneof(
  fc.record({
    kind: fc.constant('propose' as const),
    staff,
    at: fc.nat(),
    reportId: fc.option(fc.constant('r_1')),
  }),
  fc.record({ kind: fc.constant('propose_lift' as const), staff, at: fc.nat() }),
  fc.record({ kind: fc.constant('approve' as const), staff, at: fc.nat() }),
  fc.record({ kind: fc.constant('withdraw' as const), staff, at: fc.nat() }),
);

/** Runs events from `active`, refused steps leaving the state as it was (as the service does). */
function run(events: readonly SuspensionEvent[]) {
  let state: SuspensionState = ACTIVE;
  const trace: { before: SuspensionState; event: SuspensionEvent; after: SuspensionState; error?: string }[] =
    [];
  for (const e of events) {
    const before = state;
    try {
      state = transition(state, e).state;
      trace.push({ before, event: e, after: state });
    } catch (error) {
      expect(error).toBeInstanceOf(CourierError);
      trace.push({ before, event: e, after: state, error: (error as CourierError).code });
    }
  }
  return trace;
}

describe('the suspension state machine (property)', () => {
  it('suspends or lifts only on the approval of someone other than the proposer', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        for (const step of run(events)) {
          if (isSuspended(step.before) !== isSuspended(step.after)) {
            // Whether the account is refused changes only by an approval of a pending proposal...
            expect(step.event.kind).toBe('approve');
            expect(step.before.kind === 'proposed' || step.before.kind === 'lift_proposed').toBe(true);
            // ...made by a different staff member than the one who proposed.
            expect(step.event.staff).not.toBe((step.before as { by: string }).by);
          }
        }
      }),
    );
  });

  it('refuses with typed errors only, and never changes state on a refusal', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        for (const step of run(events)) {
          if (step.error === undefined) continue;
          expect(['MODERATION_STATE', 'MODERATION_SAME_STAFF']).toContain(step.error);
          expect(step.after).toEqual(step.before);
          if (step.error === 'MODERATION_SAME_STAFF') {
            expect(step.event.kind).toBe('approve');
            expect((step.before as { by?: string }).by).toBe(step.event.staff);
          }
        }
      }),
    );
  });

  it('keeps the time a suspension began through a proposed (and withdrawn) lift', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        for (const step of run(events)) {
          if (step.error || !isSuspended(step.before) || !isSuspended(step.after)) continue;
          expect((step.after as { since: number }).since).toBe((step.before as { since: number }).since);
        }
      }),
    );
  });

  it('one staff member alone can never suspend, however many steps they take', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        const alone = events.map((e) => ({ ...e, staff: 's_a' }));
        for (const step of run(alone)) expect(isSuspended(step.after)).toBe(false);
      }),
    );
  });
});
