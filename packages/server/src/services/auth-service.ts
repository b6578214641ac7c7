import { type AuthIntent, CourierError, newId, type VerifyCodeReply } from '@courier/protocol';
import type { Bus } from '../bus/ports.ts';
import type { Config } from '../config.ts';
import type { ServerDeps } from '../deps.ts';
import type { SmsSender } from '../sms/ports.ts';
import { DEFAULT_PRIVACY, type Storage } from '../storage/ports.ts';
import type { PolicyBook } from '../privacy/policy-versions.ts';
import { startOfDay } from '../privacy/start-of-day.ts';
import { isUniqueViolation } from '../storage/kysely/unique-violation.ts';
import { normalizePhone } from './phone.ts';
import { hashCode, hashToken, newCode, newToken, sameHash } from './secrets.ts';

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
  ) {}

  private async limit(key: string, max: number): Promise<void> {
    const count = await this.storage.rateLimits.hit(key, this.deps.clock.now(), this.config.rateWindowMs);
    if (count > max)
      throw new CourierError('AUTH_RATE_LIMITED', { details: { retryAfterMs: this.config.rateWindowMs } });
  }

  async requestCode(rawPhone: string, intent: AuthIntent, ip: string) {
    await this.limit(`ip:${ip}`, this.config.requestsPerIp);
    const phone = normalizePhone(rawPhone);
    await this.limit(`phone:${phone}`, this.config.codesPerPhone);
    const account = await this.storage.accounts.byPhone(phone);
    if (intent === 'register' && account) throw new CourierError('AUTH_ACCOUNT_EXISTS');
    if (intent === 'login' && !account) throw new CourierError('AUTH_ACCOUNT_NOT_FOUND');
    const now = this.deps.clock.now();
    const code = newCode(this.deps.random, this.config.codeLength);
    const expiresAtMs = now + this.config.codeTtlMs;
    await this.storage.authCodes.put({
      phone,
      codeHash: hashCode(phone, code),
      intent,
      expiresAt: expiresAtMs,
      attempts: 0,
      createdAt: now,
    });
    try {
      await this.sms.send(
        phone,
        `Your Courier code is ${code}. It expires in ${Math.round(this.config.codeTtlMs / 60_000)} minutes.`,
      );
    } catch (cause) {
      await this.storage.authCodes.delete(phone);
      throw new CourierError('AUTH_SMS_FAILED', { cause });
    }
    return { phone, expiresAtMs, codeLength: this.config.codeLength };
  }

  async verify(
    rawPhone: string,
    code: string,
    intent: AuthIntent,
    deviceName: string,
    ip: string,
    acceptPolicyVersion?: string,
  ): Promise<VerifyCodeReply> {
    await this.limit(`ip:${ip}`, this.config.requestsPerIp);
    const phone = normalizePhone(rawPhone);
    const now = this.deps.clock.now();
    const stored = await this.storage.authCodes.byPhone(phone);
    if (!stored || stored.expiresAt <= now || stored.intent !== intent)
      throw new CourierError('AUTH_CODE_EXPIRED');
    if (stored.attempts >= this.config.maxCodeAttempts) {
      await this.storage.authCodes.delete(phone);
      throw new CourierError('AUTH_CODE_ATTEMPTS_EXCEEDED');
    }
    if (!sameHash(stored.codeHash, hashCode(phone, code))) {
      const attempts = await this.storage.authCodes.addAttempt(phone);
      if (attempts >= this.config.maxCodeAttempts) {
        await this.storage.authCodes.delete(phone);
        throw new CourierError('AUTH_CODE_ATTEMPTS_EXCEEDED');
      }
      throw new CourierError('AUTH_CODE_INVALID', {
        details: { attemptsLeft: this.config.maxCodeAttempts - attempts },
      });
    }
    // The current privacy policy must be accepted at sign-up and at the first login after it
    // changes. Checked before the code is spent, so the person can retry with their acceptance.
    const policy = this.policies.current();
    const existing = await this.storage.accounts.byPhone(phone);
    const accepted = existing
      ? (await this.storage.policyAcceptances.accepted(existing.id)).some((a) => a.version === policy.version)
      : false;
    if (!accepted && acceptPolicyVersion !== policy.version) {
      throw new CourierError(
        acceptPolicyVersion === undefined ? 'PRIVACY_POLICY_NOT_ACCEPTED' : 'PRIVACY_POLICY_UNKNOWN_VERSION',
        {
          details: { version: policy.version, url: '/privacy' },
        },
      );
    }
    const token = newToken(this.deps.random);
    try {
      return await this.storage.transaction(async (tx) => {
        // Deleting the code first makes a replay fail even if two verifications race.
        await tx.authCodes.delete(phone);
        let account = await tx.accounts.byPhone(phone);
        let created = false;
        if (intent === 'register') {
          if (account) throw new CourierError('AUTH_ACCOUNT_EXISTS');
          account = {
            id: newId('account', this.deps.random),
            phone,
            username: null,
            displayName: '',
            createdAt: now,
            lastSeenDay: startOfDay(now),
            privacy: DEFAULT_PRIVACY,
          };
          await tx.accounts.insert(account);
          created = true;
        } else if (!account) {
          throw new CourierError('AUTH_ACCOUNT_NOT_FOUND');
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
        if (!accepted) await tx.policyAcceptances.accept(account.id, policy.version, now);
        if (this.recordIps) await tx.connections.record([{ deviceId, accountId: account.id, ip, at: now }]);
        await tx.accounts.touchLastSeenDay([account.id], startOfDay(now));
        return { accountId: account.id, deviceId, token, created, policyVersion: policy.version };
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new CourierError('AUTH_ACCOUNT_EXISTS', { cause: error });
      throw error;
    }
  }

  /** Resolves a bearer token to its account and device, or throws AUTH_INVALID_TOKEN. */
  async authenticate(token: string | undefined): Promise<Principal> {
    if (!token) throw new CourierError('AUTH_REQUIRED');
    if (token.length > 100) throw new CourierError('AUTH_INVALID_TOKEN');
    const tokenHash = hashToken(token);
    const session = await this.storage.sessions.byTokenHash(tokenHash);
    if (!session) throw new CourierError('AUTH_INVALID_TOKEN');
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
