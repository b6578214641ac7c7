import { CourierError, type DeleteAccountReply, type PrivacySettingsView } from '@courier/protocol';
import type { Bus } from '../bus/ports.ts';
import type { Clock } from '../deps.ts';
import type { PolicyBook } from '../privacy/policy-versions.ts';
import { ChannelService } from '../channels/channel-service.ts';
import type { Storage } from '../storage/ports.ts';
import type { Principal } from './auth-service.ts';
import type { ExportJobs } from './export-jobs.ts';
import type { GroupService } from './group-service.ts';
import { consentKeysOf } from './consent-limits.ts';
import { normalizePhone } from './phone.ts';
import type { LegalRequest } from '../legal/legal-request.ts';
import { nonDisclosureInForce } from '../legal/non-disclosure.ts';

/** Privacy settings, policy acceptance, and the data-protection rights: export and erasure. */
export class PrivacyService {
  constructor(
    private readonly storage: Storage,
    private readonly bus: Bus,
    private readonly groups: GroupService,
    private readonly clock: Clock,
    private readonly policies: PolicyBook,
    private readonly exports: ExportJobs,
    /** Erasure removes the media blobs the account uploaded (media/media-service.ts). */
    private readonly media?: { eraseAccount(accountId: string): Promise<number> },
    /** Erasure removes the sticker packs the account owns (stickers/sticker-service.ts). */
    private readonly stickers?: { eraseAccount(accountId: string): Promise<number> },
  ) {}

  async settings(principal: Principal): Promise<PrivacySettingsView> {
    const account = await this.storage.accounts.byId(principal.accountId);
    if (!account) throw new CourierError('AUTH_INVALID_TOKEN');
    return account.privacy;
  }

  async updateSettings(
    principal: Principal,
    change: Partial<PrivacySettingsView>,
  ): Promise<PrivacySettingsView> {
    const next = { ...(await this.settings(principal)), ...change };
    await this.storage.accounts.setPrivacy(principal.accountId, next);
    return next;
  }

  async acceptPolicy(principal: Principal, version: string): Promise<void> {
    const now = this.clock.now();
    const policy = this.policies.current();
    if (version !== policy.version) {
      throw new CourierError('PRIVACY_POLICY_UNKNOWN_VERSION', { details: { version: policy.version } });
    }
    await this.storage.policyAcceptances.accept(principal.accountId, version, now);
  }

  /** Deletes the account at the person's request; they confirm by typing their number again. */
  async deleteAccount(principal: Principal, confirmPhone: string): Promise<DeleteAccountReply> {
    const account = await this.storage.accounts.byId(principal.accountId);
    if (!account) throw new CourierError('AUTH_INVALID_TOKEN');
    let typed: string;
    try {
      typed = normalizePhone(confirmPhone);
    } catch {
      typed = '';
    }
    if (typed !== account.phone) throw new CourierError('ACCOUNT_DELETE_NOT_CONFIRMED');
    const { legalHold } = await this.erase(account.id);
    return { deleted: true, legalHold };
  }

  /**
   * Erases everything personal at once: the account leaves every chat (each chat's log says so),
   * then its phone number, username, profile, devices, sessions, cursors, mailbox, policy
   * acceptances, connection records, export archives, uploaded media blobs, owned sticker packs,
   * pending codes, blocks, invitations, rate-limit windows, channel subscriptions and the channels it
   * owns go. No tombstone with
   * personal data remains; live connections of its devices are closed.
   */
  async erase(accountId: string): Promise<{ legalHold: boolean }> {
    const account = await this.storage.accounts.byId(accountId);
    if (!account) return { legalHold: false };
    // A legal obligation: an open case naming the account keeps its phone number and the IP
    // records the case covers, and nothing else, until the case is closed.
    const cases = await this.storage.legalCases.openCasesNaming(accountId);
    if (cases.length > 0) {
      const records = await this.storage.connections.detailsByAccount(accountId);
      for (const c of cases) {
        const { timeRange } = JSON.parse(c.request) as { timeRange: { from: string; to: string } };
        const from = Date.parse(timeRange.from);
        const to = Date.parse(timeRange.to);
        await this.storage.legalCases.putHold({
          caseId: c.id,
          accountId,
          phone: account.phone,
          ipRecords: records
            .filter((r) => r.firstSeen <= to && r.at >= from)
            .map((r) => ({ ip: r.ip, firstSeen: r.firstSeen, lastSeen: r.at })),
          createdAt: this.clock.now(),
        });
      }
    }
    await this.groups.departEverywhere(accountId);
    const devices = await this.storage.devices.byAccount(accountId);
    await this.exports.eraseAccount(accountId);
    await this.media?.eraseAccount(accountId);
    await this.stickers?.eraseAccount(accountId);
    const channelsDeleted = await this.storage.transaction(async (tx) => {
      // Its channel subscriptions, the channels it owns (with their posts), its admin roles.
      const deleted = await ChannelService.eraseAccount(tx, accountId);
      await tx.connections.deleteByAccount(accountId);
      // Blocks made by or naming the account, invitations to or from it, its request limits.
      await tx.blocks.deleteByAccount(accountId);
      await tx.invitations.deleteByAccount(accountId);
      for (const key of consentKeysOf(accountId)) await tx.rateLimits.deleteKey(key);
      // Pending codes go; the number's SMS window stays (keyed by a hash of the number, it expires
      // with its window): erasing an account must not reset the number's SMS limit.
      await tx.authCodes.deleteByPhone(account.phone);
      await tx.accounts.delete(accountId);
      return deleted;
    });
    for (const channelId of channelsDeleted)
      await this.bus.publish({ type: 'channel_subscriptions_changed', channelId, accountIds: [] });
    if (devices.length > 0) {
      await this.bus.publish({ type: 'devices_revoked', deviceIds: devices.map((d) => d.id) });
    }
    // The person is told of a hold unless a court's non-disclosure order still forbids it; then the
    // reply is the one an account without a hold gets (any other reply would tell them).
    const now = this.clock.now();
    return {
      legalHold: cases.some((c) => !nonDisclosureInForce(JSON.parse(c.request) as LegalRequest, now)),
    };
  }

  /** Deletes every account inactive for longer than its own self-destruct period; returns how many. */
  async selfDestruct(): Promise<number> {
    const expired = await this.storage.accounts.expired(this.clock.now());
    for (const id of expired) await this.erase(id);
    return expired.length;
  }
}
