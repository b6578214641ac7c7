import { CourierError } from '@courier/protocol';
import fc from 'fast-check';
import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { deskPropertySetup } from './desk-property-setup.ts';

const LIMITS = { failedLoginsPerUser: 3, failedLoginsPerIp: 5, failedLoginWindowMs: 10 * 60_000 };
const PASSWORD = 'correct horse battery staple';
const USERS = ['alice.staff', 'bob.staff', 'ghost.nobody'] as const;
const IPS = ['192.0.2.1', '192.0.2.2', '192.0.2.3'] as const;

type Step =
  | { kind: 'wait'; ms: number }
  | {
      kind: 'login';
      user: (typeof USERS)[number];
      ip: (typeof IPS)[number];
      rightPassword: boolean;
      code: 'current' | 'wrong';
    };

const anyStep: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.integer({ min: 1, max: 6 * 60_000 }).map((ms) => ({ kind: 'wait' as const, ms })),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('login' as const),
      user: fc.constantFrom(...USERS),
      ip: fc.constantFrom(...IPS),
      rightPassword: fc.boolean(),
      code: fc.constantFrom('current' as const, 'current' as const, 'wrong' as const),
    }),
    weight: 4,
  },
);

/**
 * The desk's login as a state machine, against a model of it: throttling per username and per
 * address in a sliding window, a time step used once per account, success only with the right
 * password and code of an existing account. The real store (SQLite) keeps the state; argon2 is
 * replaced by a plain comparison here, the property being about the rules, not the hash.
 */
describe('desk login, for any sequence of attempts', () => {
  const setup = deskPropertySetup(LIMITS);

  it('throttles, refuses replays and admits exactly as the model says', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyStep, { minLength: 1, maxLength: 25 }), async (steps) => {
        const { run, clock, desk } = setup.nextRun();
        const secrets = new Map<string, string>();
        const name = (u: string) => `${u}.${run}`;
        for (const user of USERS.slice(0, 2)) {
          const created = await desk.createAccount({
            kind: 'staff',
            username: name(user),
            displayName: user,
            password: PASSWORD,
            roles: ['reviewer'],
          });
          secrets.set(user, created.totpSecret);
        }
        // The model.
        const failures: { key: string; at: number }[] = [];
        const lastStep = new Map<string, number>();
        const count = (key: string) =>
          failures.filter((f) => f.key === key && f.at > clock.ms - LIMITS.failedLoginWindowMs).length;

        for (const step of steps) {
          if (step.kind === 'wait') {
            clock.ms += step.ms;
            continue;
          }
          const secret = secrets.get(step.user) ?? new Secret({ size: 20 }).base32;
          const right = new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: clock.ms });
          const code =
            step.code === 'current' ? right : String((Number(right) + 1) % 1_000_000).padStart(6, '0');
          const timeStep = Math.floor(clock.ms / 30_000);
          const expected =
            count(`ip:${step.ip}`) >= LIMITS.failedLoginsPerIp ||
            count(`user:${step.user}`) >= LIMITS.failedLoginsPerUser
              ? 'DESK_LOGIN_THROTTLED'
              : secrets.has(step.user) &&
                  step.rightPassword &&
                  step.code === 'current' &&
                  (lastStep.get(step.user) ?? -1) < timeStep
                ? 'ok'
                : 'DESK_LOGIN_FAILED';
          let actual: string;
          try {
            await desk.login(
              name(step.user),
              step.rightPassword ? PASSWORD : 'wrong password!!',
              code,
              step.ip,
            );
            actual = 'ok';
          } catch (error) {
            if (!(error instanceof CourierError)) throw error;
            actual = error.code;
          }
          expect(actual, JSON.stringify(step)).toBe(expected);
          if (expected === 'ok') {
            lastStep.set(step.user, timeStep);
            for (let i = failures.length - 1; i >= 0; i--)
              if (failures[i]!.key === `user:${step.user}`) failures.splice(i, 1);
          } else if (expected === 'DESK_LOGIN_FAILED') {
            failures.push({ key: `user:${step.user}`, at: clock.ms }, { key: `ip:${step.ip}`, at: clock.ms });
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
