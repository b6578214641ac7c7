import { type BlockView, CourierError, isId } from '@courier/protocol';
import type { Clock } from '../deps.ts';
import type { Storage } from '../storage/ports.ts';
import type { Principal } from './auth-service.ts';
import type { ConsentLimits } from './consent-limits.ts';
import type { GroupService } from './group-service.ts';

/**
 * Blocks: silent to the blocked person. A block ends the contact, stops the direct chat between the
 * two being delivered to the blocker (as a decline does), drops the blocked person's waiting
 * invitations to the blocker, and from then on their new direct chats, invitations and device
 * mailbox items never reach the blocker, while every reply they get stays the one they would get
 * if they were not blocked. Unblocking lifts those rules for what comes next; it does not bring
 * back what was dropped.
 */
export class ConsentService {
  constructor(
    private readonly storage: Storage,
    private readonly groups: GroupService,
    private readonly limits: ConsentLimits,
    private readonly clock: Clock,
  ) {}

  async blocks(principal: Principal): Promise<BlockView[]> {
    return (await this.storage.blocks.byBlocker(principal.accountId)).map((b) => ({
      accountId: b.blockedId,
      createdAtMs: b.createdAt,
    }));
  }

  async block(principal: Principal, accountId: string): Promise<void> {
    if (accountId === principal.accountId) throw new CourierError('CONSENT_SELF_BLOCK');
    const target = isId('account', accountId) ? await this.storage.accounts.byId(accountId) : undefined;
    if (!target) throw new CourierError('ACCOUNT_NOT_FOUND');
    // Blocking again (say, from a chat opened since) still ends that chat; it counts one refusal.
    if (!(await this.storage.blocks.isBlocked(principal.accountId, accountId))) {
      await this.storage.blocks.put({
        blockerId: principal.accountId,
        blockedId: accountId,
        createdAt: this.clock.now(),
      });
      await this.limits.refused(accountId);
    }
    const direct = await this.storage.groups.byDirectKey([principal.accountId, accountId].sort().join(':'));
    const mine = direct && (await this.storage.groups.member(direct.id, principal.accountId));
    if (direct && mine && mine.consent !== 'declined')
      await this.groups.declineChat(principal.accountId, direct.id);
    for (const invitation of await this.storage.invitations.forAccount(principal.accountId)) {
      if (invitation.inviterId === accountId)
        await this.storage.invitations.delete(invitation.groupId, principal.accountId);
    }
  }

  async unblock(principal: Principal, accountId: string): Promise<void> {
    if (!isId('account', accountId)) throw new CourierError('ACCOUNT_NOT_FOUND');
    await this.storage.blocks.delete(principal.accountId, accountId);
  }
}
