import {
  type AccountView,
  CourierError,
  type DeviceView,
  isId,
  MAX_DISPLAY_NAME_LENGTH,
  UNSAFE_TEXT_PATTERN,
  USERNAME_PATTERN,
  type UserView,
} from '@courier/protocol';
import { allows, relationOf } from '../privacy/audience.ts';
import type { PolicyBook } from '../privacy/policy-versions.ts';
import type { AccountRow, Storage } from '../storage/ports.ts';
import type { Principal } from './auth-service.ts';
import { normalizePhone } from './phone.ts';

/** Profiles, usernames, lookups (each answer filtered by the person's privacy settings) and devices. */
export class AccountService {
  constructor(
    private readonly storage: Storage,
    private readonly policies: PolicyBook,
  ) {}

  async me(principal: Principal): Promise<AccountView> {
    const a = await this.storage.accounts.byId(principal.accountId);
    if (!a) throw new CourierError('AUTH_INVALID_TOKEN');
    const policy = this.policies.current();
    const accepted = (await this.storage.policyAcceptances.accepted(a.id)).some(
      (x) => x.version === policy.version,
    );
    return {
      accountId: a.id,
      phone: a.phone,
      username: a.username,
      displayName: a.displayName,
      createdAtMs: a.createdAt,
      policy: { current: policy.version, accepted },
    };
  }

  async setUsername(principal: Principal, username: string | null): Promise<AccountView> {
    if (username !== null && !USERNAME_PATTERN.test(username.toLowerCase())) {
      throw new CourierError('ACCOUNT_USERNAME_INVALID');
    }
    const normalized = username?.toLowerCase() ?? null;
    if (!(await this.storage.accounts.setUsername(principal.accountId, normalized))) {
      throw new CourierError('ACCOUNT_USERNAME_TAKEN');
    }
    return this.me(principal);
  }

  async setDisplayName(principal: Principal, displayName: string): Promise<AccountView> {
    const trimmed = displayName.trim();
    if (trimmed.length < 1 || trimmed.length > MAX_DISPLAY_NAME_LENGTH || UNSAFE_TEXT_PATTERN.test(trimmed))
      throw new CourierError('ACCOUNT_PROFILE_INVALID');
    await this.storage.accounts.setDisplayName(principal.accountId, trimmed);
    return this.me(principal);
  }

  /**
   * Finds a person. By phone number only if their "who can find me by phone" setting lets this
   * viewer; otherwise the answer is the same as for a number nobody has (no hint either way).
   */
  async lookup(
    principal: Principal,
    query: { username?: string; phone?: string; accountId?: string },
  ): Promise<UserView> {
    let account: AccountRow | undefined;
    if (query.username !== undefined) {
      const name = query.username.replace(/^@/, '');
      account = USERNAME_PATTERN.test(name.toLowerCase())
        ? await this.storage.accounts.byUsername(name)
        : undefined;
    } else if (query.phone !== undefined) {
      account = await this.storage.accounts.byPhone(normalizePhone(query.phone));
      if (
        account &&
        !allows(
          account.privacy.phoneDiscovery,
          await relationOf(this.storage, principal.accountId, account.id),
        )
      ) {
        account = undefined;
      }
    } else if (query.accountId !== undefined) {
      account = isId('account', query.accountId)
        ? await this.storage.accounts.byId(query.accountId)
        : undefined;
    } else {
      throw new CourierError('REQ_INVALID', { message: 'Give a username, a phone number or an account id.' });
    }
    if (!account) throw new CourierError('ACCOUNT_NOT_FOUND');
    return this.viewFor(principal.accountId, account);
  }

  /** A person as this viewer may see them. */
  async viewFor(viewer: string, account: AccountRow): Promise<UserView> {
    const relation = await relationOf(this.storage, viewer, account.id);
    return {
      accountId: account.id,
      username: account.username,
      displayName: account.displayName,
      ...(allows(account.privacy.phoneVisibility, relation) ? { phone: account.phone } : {}),
      ...(account.lastSeenDay !== null && allows(account.privacy.lastSeenVisibility, relation)
        ? { lastSeenDayMs: account.lastSeenDay }
        : {}),
    };
  }

  async devices(principal: Principal): Promise<DeviceView[]> {
    const devices = await this.storage.devices.byAccount(principal.accountId);
    return devices.map((d) => ({
      deviceId: d.id,
      name: d.name,
      createdAtMs: d.createdAt,
      lastSeenAtMs: d.lastSeenAt,
      current: d.id === principal.deviceId,
    }));
  }
}
