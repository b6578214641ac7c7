import { createHash } from 'node:crypto';
import { CourierError, newId, type RequestCodeReply, type VerifyCodeReply } from '@courier/protocol';
import type { Bus } from '../bus/ports.ts';
import type { Config } from '../config.ts';
import type { ServerDeps } from '../deps.ts';
import { type ClientSource, sourceKey } from '../http/client-ip.ts';
import { SuspensionGate } from '../moderation/suspension-gate.ts';
import type { SmsSender } from '../sms/ports.ts';
import { DEFAULT_PRIVACY, type PrivacySettings, type Storage } from '../storage/ports.ts';
import type { PolicyBook } from '../privacy/policy-versions.ts';
import { startOfDay } from '../privacy/start-of-day.ts';
import { isUniqueViolation } from '../storage/kysely/unique-violation.ts';
import { normalizePhone } from './phone.ts';
import { hashCode, hashToken, newCode, newToken, sameHash } from './secrets.ts';

/** The rate window of SMS sent across all numbers. */
const SMS_BUDGET_KEY = 'sms:*';

/**
 * The rate window of SMS sent to one number: keyed by a hash of the number, not by an account, so
 * erasing the account does not reset it (the row itself goes when its window is over).
 */
export function smsWindowKey(phone: string): string {
  return `sms:${createHash('sha256').update(`courier-sms-window:${phone}`).digest('base64url')}`;
}

export interface Principal {
  accountId: string;
  deviceId: string;
  tokenHash: string;
}

/** Phone verification, devices and sessions. */
export class AuthService {
  constructor(
    private readonly storage: Storage,
    private readonly bus: Bus,
    private readonly sms: SmsSender,
    private readonly config: Config['auth'],
    private readonly deps: Pick<ServerDeps, 'clock' | 'random' | 'logger'>,
    private readonly policies: PolicyBook,
    /** False when the operator set IP retention to 0: addresses are then never stored. */
    private readonly recordIps = true,
    /** The privacy settings a new account starts with. */
    private readonly defaultPrivacy: PrivacySettings = DEFAULT_PRIVACY,
    /** Refuses suspended accounts (issue 12) with ACCOUNT_SUSPENDED and how to appeal. */
    private readonly suspensions: SuspensionGate = new SuspensionGate(),
  ) {}

  /**
   * The number, normalized. A malformed one still counts as one of the source's requests (it is
   * counted before anything else, as for a well-formed one, in the transaction that follows).
   */
  private async phoneCounted(rawPhone: string, source: ClientSource, now: number): Promise<string> {
    try {
      return normalizePhone(rawPhone);
    } catch (error) {
      if ((await this.sourceHits(this.storage, source, now)) > this.sourceLimit(source))
        throw this.rateLimited();
      throw error;
    }
  }

  private rateLimited(): CourierError {
    return new CourierError('AUTH_RATE_LIMITED', { details: { retryAfterMs: this.config.rateWindowMs } });
  }

  /** Requests and verifications per source: an address (IPv6: its /64), or a relay as a whole. */
  private sourceLimit(source: ClientSource): number {
    return source.kind === 'relay' ? this.config.requestsPerRelay : this.config.requestsPerIp;
  }

  /** Counts one request of `source` (in `stores`: a transaction's, or the storage's) and returns its count. */
  private sourceHits(
    stores: Pick<Storage, 'rateLimits'>,
    source: ClientSource,
    now: number,
  ): Promise<number> {
    return stores.rateLimits.hit(sourceKey(source), now, this.config.rateWindowMs);
  }

  /**
   * Sends a code by SMS. The answer is the same whether or not the number has an account (that is
   * settled only once the code is verified), and nothing is looked up that could make it differ.
   * Only SMS really sent count: per number and per number from one source (keyed by a hash of the
   * number, so erasing the account does not reset them), and against the operator's global budget.
   * A new code never replaces or spends an earlier one: each is verified with its own verification
   * id, which only its requester learns, so someone who names another person's number can neither
   * guess at nor burn that person's code.
   */
  async requestCode(rawPhone: string, source: ClientSource): Promise<RequestCodeReply> {
    const now = this.deps.clock.now();
    const phone = await this.phoneCounted(rawPhone, source, now);
    const windowMs = this.config.rateWindowMs;
    // Each budget is taken by one conditional write; if a later one is full, the earlier ones are
    // given back, and so are all of them if the SMS is not sent.
    const perNumber = smsWindowKey(phone);
    const budgets: [string, number][] = [
      [`${perNumber}@${sourceKey(source)}`, this.config.codesPerPhonePerSource],
      [perNumber, this.config.codesPerPhone],
      [SMS_BUDGET_KEY, this.config.smsPerWindow],
    ];
    const verificationId = newToken(this.deps.random);
    const code = newCode(this.deps.random, this.config.codeLength);
    const expiresAtMs = now + this.config.codeTtlMs;
    // The source's request, the budgets and the code are written in one transaction (one commit, not
    // five: sign-up is bound by commits). A refusal is returned, not thrown, so that what it counted
    // (the source's request) commits with it, exactly as when each write committed on its own.
    const taken = await this.storage.transaction(async (tx) => {
      if ((await this.sourceHits(tx, source, now)) > this.sourceLimit(source)) return undefined;
      const keys: string[] = [];
      for (const [key, max] of budgets) {
        if (!(await tx.rateLimits.take(key, now, windowMs, max))) {
          for (const k of keys) await tx.rateLimits.giveBack(k, now, windowMs);
          return undefined;
        }
        keys.push(key);
      }
      await tx.authCodes.put({
        id: verificationId,
        phone,
        codeHash: hashCode(phone, code),
        expiresAt: expiresAtMs,
        attempts: 0,
        consumedAt: null,
        createdAt: now,
      });
      return keys;
    });
    if (!taken) throw this.rateLimited();
    const giveBack = async () => {
      for (const key of taken) await this.storage.rateLimits.giveBack(key, now, windowMs);
    };
    try {
      await this.sms.send(
        phone,
        `Your Courier code is ${code}. It expires in ${Math.round(this.config.codeTtlMs / 60_000)} minutes.`,
      );
    } catch (cause) {
      await this.storage.authCodes.delete(verificationId);
      await giveBack();
      throw new CourierError('AUTH_SMS_FAILED', { cause });
    }
    return { phone, verificationId, expiresAtMs, codeLength: this.config.codeLength };
  }

  /**
   * Verifies a code: for a number without an account this creates it, for one with an account it
   * signs a new device in (`created` says which; only someone holding the code learns it). Every
   * verification of a live code is one attempt, taken by a single conditional write, and the code
   * is consumed by another, so racing verifications never judge more guesses than the limit and
   * never issue two sessions for one code.
   */
  async verify(
    rawPhone: string,
    verificationId: string,
    code: string,
    deviceName: string,
    source: ClientSource,
    acceptPolicyVersion?: string,
  ): Promise<VerifyCodeReply> {
    const now = this.deps.clock.now();
    const phone = await this.phoneCounted(rawPhone, source, now);
    const max = this.config.maxCodeAttempts;
    // The source's request and the attempt commit together (one commit, not two); a source over its
    // limit takes no attempt, and its request is still counted.
    const attempt = await this.storage.transaction(async (tx) => {
      if ((await this.sourceHits(tx, source, now)) > this.sourceLimit(source)) return 'limited' as const;
      return tx.authCodes.attempt(verificationId, phone, now, max);
    });
    if (attempt === 'limited') throw this.rateLimited();
    if (!attempt) {
      // Only choosing the error: nothing was taken, whatever this read sees.
      const stored = await this.storage.authCodes.byId(verificationId);
      const exhausted =
        stored?.phone === phone &&
        stored.consumedAt === null &&
        stored.expiresAt > now &&
        stored.attempts >= max;
      throw new CourierError(exhausted ? 'AUTH_CODE_ATTEMPTS_EXCEEDED' : 'AUTH_CODE_EXPIRED');
    }
    const codeHash = hashCode(phone, code);
    // A judged guess says so, down to the last (attemptsLeft 0); only later ones hear "exceeded".
    if (!sameHash(attempt.codeHash, codeHash))
      throw new CourierError('AUTH_CODE_INVALID', { details: { attemptsLeft: max - attempt.attempts } });
    // The current privacy policy must be accepted at sign-up and at the first login after it
    // changes. Checked before the code is spent, so the person can retry with their acceptance.
    const policy = this.policies.current();
    const existing = await this.storage.accounts.byPhone(phone);
    // Only someone holding the number's code learns that its account is suspended.
    if (existing) await this.suspensions.refuseIfSuspended(this.storage, existing.id);
    const accepted = existing
      ? (await this.storage.policyAcceptances.accepted(existing.id)).some((a) => a.version === policy.version)
      : false;
    if (!accepted && acceptPolicyVersion !== policy.version) {
      throw new CourierError(
        acceptPolicyVersion === undefined ? 'PRIVACY_POLICY_NOT_ACCEPTED' : 'PRIVACY_POLICY_UNKNOWN_VERSION',
        {
          details: { version: policy.version, url: '/privacy', newAccount: !existing },
        },
      );
    }
    // Two different codes for one new number may race to create its account: the loser's whole
    // transaction (its consumption too) rolls back, and its second run signs in to that account.
    let reply: VerifyCodeReply;
    for (let run = 0; ; run++) {
      try {
        reply = await this.signIn(
          phone,
          verificationId,
          codeHash,
          deviceName,
          source.ip,
          policy.version,
          now,
        );
        break;
      } catch (error) {
        if (run === 0 && isUniqueViolation(error)) continue;
        throw error;
      }
    }
    // A suspension approved while this sign-in ran (PostgreSQL runs both at once): whichever commits
    // later sees the other, since the approval sweeps the account's sessions again after it commits.
    try {
      await this.suspensions.refuseIfSuspended(this.storage, reply.accountId);
    } catch (error) {
      await this.storage.sessions.deleteByTokenHash(hashToken(reply.token));
      throw error;
    }
    return reply;
  }

  private async signIn(
    phone: string,
    verificationId: string,
    codeHash: string,
    deviceName: string,
    ip: string,
    policyVersion: string,
    now: number,
  ): Promise<VerifyCodeReply> {
    const token = newToken(this.deps.random);
    return this.storage.transaction(async (tx) => {
      // Exactly one of any racing verifications consumes the code; the others stop here.
      if (!(await tx.authCodes.consume(verificationId, codeHash, now)))
        throw new CourierError('AUTH_CODE_EXPIRED');
      let account = await tx.accounts.byPhone(phone);
      // Again inside the transaction: a suspension approved since the check above also refuses.
      if (account) await this.suspensions.refuseIfSuspended(tx, account.id);
      const created = !account;
      if (!account) {
        account = {
          id: newId('account', this.deps.random),
          phone,
          username: null,
          displayName: '',
          createdAt: now,
          lastSeenDay: startOfDay(now),
          privacy: this.defaultPrivacy,
        };
        await tx.accounts.insert(account);
      }
      const deviceId = newId('device', this.deps.random);
      await tx.devices.insert({
        id: deviceId,
        accountId: account.id,
        name: deviceName,
        createdAt: now,
        lastSeenAt: now,
      });
      // A new device starts at the present in each of the account's groups: no history.
      for (const group of await tx.groups.forAccount(account.id)) {
        await tx.cursors.start([deviceId], group.id, group.lastSeq);
      }
      await tx.sessions.insert({
        tokenHash: hashToken(token),
        deviceId,
        accountId: account.id,
        createdAt: now,
        lastUsedAt: now,
      });
      const accepted = (await tx.policyAcceptances.accepted(account.id)).some(
        (a) => a.version === policyVersion,
      );
      if (!accepted) await tx.policyAcceptances.accept(account.id, policyVersion, now);
      if (this.recordIps) await tx.connections.record([{ deviceId, accountId: account.id, ip, at: now }]);
      await tx.accounts.touchLastSeenDay([account.id], startOfDay(now));
      return { accountId: account.id, deviceId, token, created, policyVersion };
    });
  }

  /** Resolves a bearer token to its account and device, or throws AUTH_INVALID_TOKEN. */
  async authenticate(token: string | undefined): Promise<Principal> {
    if (!token) throw new CourierError('AUTH_REQUIRED');
    if (token.length > 100) throw new CourierError('AUTH_INVALID_TOKEN');
    const tokenHash = hashToken(token);
    const session = await this.storage.sessions.byTokenHash(tokenHash);
    if (!session)
      throw (
        (await this.suspensions.explainUnknownToken(this.storage, tokenHash)) ??
        new CourierError('AUTH_INVALID_TOKEN')
      );
    return { accountId: session.accountId, deviceId: session.deviceId, tokenHash };
  }

  async logout(principal: Principal): Promise<void> {
    await this.revokeDevice(principal.accountId, principal.deviceId);
  }

  /** Signs a device out everywhere: its sessions, cursors and mailbox go; live connections close. */
  async revokeDevice(accountId: string, deviceId: string): Promise<void> {
    const device = await this.storage.devices.byId(deviceId);
    if (!device || device.accountId !== accountId) throw new CourierError('DEVICE_NOT_FOUND');
    await this.storage.devices.delete(deviceId);
    await this.bus.publish({ type: 'devices_revoked', deviceIds: [deviceId] });
  }
}
