import { CourierError } from '@courier/protocol';
import fc from 'fast-check';
import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { deskPropertySetup } from './desk-property-setup.ts';

/** Throttling has its own property (desk-login.property.test.ts); here it never interferes. */
const LIMITS = { failedLoginsPerUser: 10_000, failedLoginsPerIp: 10_000, failedLoginWindowMs: 60_000 };
const PASSWORD = 'correct horse battery staple';

type Code = 'current' | 'pending' | 'wrong';
type Step =
  | { kind: 'wait'; steps: number }
  | { kind: 'begin'; rightPassword: boolean; code: Code }
  | { kind: 'confirm'; code: Code }
  | { kind: 'cancel' }
  | { kind: 'login'; code: Code };

const code = fc.constantFrom<Code>('current', 'pending', 'wrong');
const anyStep: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('wait' as const), steps: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('begin' as const), rightPassword: fc.boolean(), code }),
  fc.record({ kind: fc.constant('confirm' as const), code }),
  fc.record({ kind: fc.constant('cancel' as const) }),
  fc.record({ kind: fc.constant('login' as const), code }),
);

/**
 * A staff member's own TOTP change as a state machine, against a model: a change starts only with
 * the right password and an unused code of the current secret; the new secret waits until a code
 * of it confirms it; until then only the old secret logs in, afterwards only the new one; a code
 * (time step) opens one login or change. The real store (SQLite) keeps the state; argon2 is a plain
 * comparison here.
 */
describe('desk TOTP change, for any sequence of steps', () => {
  const setup = deskPropertySetup(LIMITS);

  it('switches secrets exactly when the model says', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyStep, { minLength: 1, maxLength: 30 }), async (steps) => {
        const { run, clock, desk, storage } = setup.nextRun();
        const username = `changer.${run}`;
        const created = await desk.createAccount({
          kind: 'staff',
          username,
          displayName: username,
          password: PASSWORD,
          roles: ['reviewer'],
        });
        // The model.
        let secret = created.totpSecret;
        let pending: string | null = null;
        let lastStep = -1;

        for (const step of steps) {
          if (step.kind === 'wait') {
            clock.ms += step.steps * 30_000;
            continue;
          }
          const timeStep = Math.floor(clock.ms / 30_000);
          const of = (s: string) =>
            new TOTP({ secret: Secret.fromBase32(s) }).generate({ timestamp: clock.ms });
          const kind: Code = step.kind === 'cancel' ? 'wrong' : step.code;
          const typed =
            kind === 'current'
              ? of(secret)
              : kind === 'pending'
                ? of(pending ?? new Secret({ size: 20 }).base32)
                : String((Number(of(secret)) + 1) % 1_000_000).padStart(6, '0');
          const isCurrent = kind === 'current';
          const isPending = kind === 'pending' && pending !== null;
          const account = (await storage.desk.accountByUsername(username))!;
          let expected: string;
          let actual: string;
          let reply: { totpSecret: string } | undefined;
          const attempt = async (action: () => Promise<unknown>) => {
            try {
              const result = await action();
              actual = 'ok';
              return result;
            } catch (error) {
              if (!(error instanceof CourierError)) throw error;
              actual = error.code;
              return undefined;
            }
          };
          if (step.kind === 'begin') {
            expected =
              step.rightPassword && isCurrent && lastStep < timeStep ? 'ok' : 'DESK_CREDENTIALS_WRONG';
            reply = (await attempt(() =>
              desk.beginTotpChange(account, step.rightPassword ? PASSWORD : 'wrong password!!', typed),
            )) as typeof reply;
            if (expected === 'ok' && reply) {
              lastStep = timeStep;
              expect(reply.totpSecret).not.toBe(secret);
              pending = reply.totpSecret;
            }
          } else if (step.kind === 'confirm') {
            expected =
              pending === null
                ? 'DESK_TOTP_CHANGE_NOT_STARTED'
                : isPending
                  ? 'ok'
                  : 'DESK_TOTP_CONFIRM_FAILED';
            await attempt(() => desk.confirmTotpChange(account, typed));
            if (expected === 'ok' && pending !== null) {
              secret = pending;
              pending = null;
              lastStep = Math.max(lastStep, timeStep);
            }
          } else if (step.kind === 'cancel') {
            expected = 'ok';
            await attempt(() => desk.cancelTotpChange(account));
            pending = null;
          } else {
            expected = isCurrent && lastStep < timeStep ? 'ok' : 'DESK_LOGIN_FAILED';
            await attempt(() => desk.login(username, PASSWORD, typed));
            if (expected === 'ok') lastStep = timeStep;
          }
          expect(actual!, JSON.stringify({ step, pending: pending !== null })).toBe(expected);
          expect((await storage.desk.accountByUsername(username))!.totpSecret).toBe(secret);
          expect(await storage.desk.pendingTotpSecret(account.id)).toBe(pending);
        }
      }),
      { numRuns: 60 },
    );
  });
});
