import { randomBytes } from 'node:crypto';
import { CourierError } from '@courier/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../bus/memory/memory-bus.ts';
import { type Config, parseConfig } from '../config.ts';
import { PolicyBook, policyVersions } from '../privacy/policy-versions.ts';
import { type StorageAdapter, storageAdapters } from '../storage/contract/adapters.ts';
import type { ClientSource } from '../http/client-ip.ts';
import type { Storage } from '../storage/ports.ts';
import { CapturingSms, nextPhone } from '../../../../test/support/harness.ts';
import { AuthService } from './auth-service.ts';

const clock = { ms: Date.UTC(2026, 0, 1), now: () => clock.ms };
const policy = policyVersions[policyVersions.length - 1]!.version;
/** The n-th wrong code of the same length (n < 10^length - 1). */
const wrong = (code: string, n: number) =>
  String((Number(code) + 1 + n) % 10 ** code.length).padStart(code.length, '0');
const codeOf = async (work: Promise<unknown>): Promise<string> => {
  try {
    await work;
    return 'OK';
  } catch (error) {
    if (error instanceof CourierError) return error.code;
    throw error;
  }
};

describe.each(storageAdapters)('auth service on $name', (adapter: StorageAdapter) => {
  let storage: Storage;
  let dispose: () => Promise<void>;
  let sms: CapturingSms;
  let config: Config['auth'];
  let auth: AuthService;

  beforeAll(async () => {
    const opened = await adapter.open();
    storage = opened.storage;
    dispose = opened.dispose;
    sms = new CapturingSms();
    // Generous per-IP limits: these tests are about the code's own attempt limit.
    config = parseConfig({ auth: { requestsPerIp: 10_000 } }).auth;
    auth = new AuthService(
      storage,
      new MemoryBus(),
      sms,
      config,
      { clock, random: (n) => new Uint8Array(randomBytes(n)), logger: pino({ level: 'silent' }) },
      new PolicyBook(policyVersions, clock),
    );
  });
  afterAll(async () => {
    await dispose?.();
  });

  const sessionsOf = async (phone: string) => {
    const account = await storage.accounts.byPhone(phone);
    return account ? (await storage.sessions.byAccount(account.id)).length : 0;
  };

  const direct = (ip: string): ClientSource => ({ kind: 'direct', ip });
  /** An account with one device, signed up through the service. */
  const signUp = async (phone: string) => {
    const { verificationId } = await auth.requestCode(phone, direct('192.0.2.9'));
    await auth.verify(phone, verificationId, sms.lastCode(phone), 'first', direct('192.0.2.9'), policy);
  };

  describe('verification under concurrency (issue 11 item 3)', () => {
    it('one code verified 5 times at once gives exactly one session', async () => {
      const phone = nextPhone();
      await signUp(phone);
      const { verificationId } = await auth.requestCode(phone, direct('192.0.2.1'));
      const code = sms.lastCode(phone);
      const outcomes = await Promise.all(
        Array.from({ length: 5 }, () =>
          codeOf(auth.verify(phone, verificationId, code, 'phone', direct('192.0.2.1'), policy)),
        ),
      );
      expect(outcomes.filter((o) => o === 'OK')).toHaveLength(1);
      expect(await sessionsOf(phone)).toBe(2);
    });

    it('two codes for a new number verified at once make one account: one creates it, the other signs in', async () => {
      const phone = nextPhone();
      const first = await auth.requestCode(phone, direct('192.0.2.3'));
      const firstCode = sms.lastCode(phone);
      const second = await auth.requestCode(phone, direct('192.0.2.4'));
      const secondCode = sms.lastCode(phone);
      const replies = await Promise.all([
        auth.verify(phone, first.verificationId, firstCode, 'a', direct('192.0.2.3'), policy),
        auth.verify(phone, second.verificationId, secondCode, 'b', direct('192.0.2.4'), policy),
      ]);
      expect(replies.map((r) => r.created).sort()).toEqual([false, true]);
      expect(replies[0].accountId).toBe(replies[1].accountId);
      expect(await sessionsOf(phone)).toBe(2);
    });

    it('41 simultaneous guesses with the right one 21st: at most the attempt limit is ever judged', async () => {
      const phone = nextPhone();
      await signUp(phone);
      const { verificationId } = await auth.requestCode(phone, direct('192.0.2.2'));
      const code = sms.lastCode(phone);
      const guesses = Array.from({ length: 41 }, (_, i) => (i === 20 ? code : wrong(code, i)));
      const outcomes = await Promise.all(
        guesses.map((guess) =>
          codeOf(auth.verify(phone, verificationId, guess, 'phone', direct('192.0.2.2'), policy)),
        ),
      );
      const judged = outcomes.filter((o) => o === 'OK' || o === 'AUTH_CODE_INVALID').length;
      const sessions = (await sessionsOf(phone)) - 1;
      expect(sessions).toBeLessThanOrEqual(1);
      // Attempts are counted exactly: never more guesses judged than the limit allows.
      expect(judged).toBeLessThanOrEqual(config.maxCodeAttempts);
      expect(outcomes.filter((o) => o === 'OK')).toHaveLength(sessions);
      if (adapter.name === 'sqlite') {
        // One SQLite connection takes the statements in the order they were issued: the first five
        // wrong guesses spend the attempts, and the right one, 21st, comes too late.
        expect(sessions).toBe(0);
        expect(outcomes[20]).toBe('AUTH_CODE_ATTEMPTS_EXCEEDED');
      }
      // Whatever the interleaving, the code is spent afterwards.
      expect(
        await codeOf(auth.verify(phone, verificationId, code, 'phone', direct('192.0.2.2'), policy)),
      ).not.toBe('OK');
      // Attempts are counted exactly: the stored count is the number of guesses judged.
      const stored = await storage.authCodes.byId(verificationId);
      expect(stored?.attempts).toBe(judged);
    });
  });
});
