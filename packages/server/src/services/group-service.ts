import {
  CourierError,
  encodeRosterEvent,
  type GroupDetailView,
  type GroupView,
  isId,
  MAX_GROUP_TITLE_LENGTH,
  UNSAFE_TEXT_PATTERN,
  newId,
  type RosterEvent,
} from '@courier/protocol';
import type { Bus } from '../bus/ports.ts';
import type { ServerDeps } from '../deps.ts';
import type { GroupRow, MemberRow, Stores, Storage } from '../storage/ports.ts';
import { isUniqueViolation } from '../storage/kysely/unique-violation.ts';
import type { Principal } from './auth-service.ts';

type Role = MemberRow['role'];
const isAdmin = (role: Role) => role === 'owner' || role === 'admin';

const view = (g: GroupRow, myRole: Role): GroupView => ({
  groupId: g.id,
  kind: g.kind,
  title: g.title,
  createdAtMs: g.createdAt,
  lastSeq: g.lastSeq,
  memberCount: g.memberCount,
  myRole,
});

/** Chats and their rosters. Every roster change is also an entry in the group's log. */
export class GroupService {
  constructor(
    private readonly storage: Storage,
    private readonly bus: Bus,
    private readonly memberCap: number,
    private readonly deps: Pick<ServerDeps, 'clock' | 'random'>,
  ) {}

  async list(principal: Principal): Promise<GroupView[]> {
    return (await this.storage.groups.forAccount(principal.accountId)).map((g) => view(g, g.role));
  }

  async detail(principal: Principal, groupId: string): Promise<GroupDetailView> {
    const { group, me } = await this.membership(this.storage, principal, groupId);
    const members = await this.storage.groups.members(groupId);
    // Owner first, then admins, then members; each by when they joined (same order on every backend).
    const rank: Record<Role, number> = { owner: 0, admin: 1, member: 2 };
    members.sort(
      (x, y) =>
        rank[x.role] - rank[y.role] ||
        x.joinedSeq - y.joinedSeq ||
        (x.accountId < y.accountId ? -1 : x.accountId > y.accountId ? 1 : 0),
    );
    return {
      ...view(group, me.role),
      members: members.map((m) => ({ accountId: m.accountId, role: m.role, joinedAtMs: m.joinedAt })),
    };
  }

  async create(principal: Principal, title: string, memberIds: readonly string[]): Promise<GroupDetailView> {
    const cleanTitle = title.trim();
    if (
      cleanTitle.length < 1 ||
      cleanTitle.length > MAX_GROUP_TITLE_LENGTH ||
      UNSAFE_TEXT_PATTERN.test(cleanTitle)
    )
      throw new CourierError('GROUP_TITLE_INVALID');
    const others = await this.existingAccounts(memberIds.filter((id) => id !== principal.accountId));
    if (others.length + 1 > this.memberCap) this.capExceeded(0, others.length + 1);
    const group = await this.insertGroup('group', cleanTitle, principal, others, null);
    return this.detail(principal, group.id);
  }

  /** The one direct chat of two people: returned if it exists, created otherwise. */
  async openDirect(principal: Principal, otherId: string): Promise<GroupDetailView> {
    if (otherId === principal.accountId) throw new CourierError('GROUP_SELF_DIRECT');
    const [other] = await this.existingAccounts([otherId]);
    const key = [principal.accountId, other!].sort().join(':');
    let group = await this.storage.groups.byDirectKey(key);
    if (!group) {
      try {
        group = await this.insertGroup('direct', '', principal, [other!], key);
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        group = await this.storage.groups.byDirectKey(key);
      }
    }
    return this.detail(principal, group!.id);
  }

  async addMembers(
    principal: Principal,
    groupId: string,
    accountIds: readonly string[],
  ): Promise<GroupDetailView> {
    const candidates = await this.existingAccounts(accountIds);
    const changed = await this.storage.transaction(async (tx) => {
      // Lock the group first: two admins adding the same person at once must see each other.
      await tx.groups.lockGroups([groupId]);
      const { group, me } = await this.membership(tx, principal, groupId);
      this.requireMutable(group);
      if (!isAdmin(me.role)) throw new CourierError('GROUP_NOT_ADMIN');
      const already = new Set(await tx.groups.existingMembers(groupId, candidates));
      const added = candidates.filter((id) => !already.has(id));
      if (added.length === 0) return [];
      const count = await tx.groups.adjustMemberCount(groupId, added.length);
      if (count > this.memberCap) this.capExceeded(count - added.length, count);
      const seq = await this.appendRoster(tx, group.id, principal, {
        action: 'added',
        subjectAccountIds: added,
      });
      await tx.groups.insertMembers(
        added.map((accountId) => this.memberRow(groupId, accountId, 'member', seq)),
      );
      await this.startCursors(tx, groupId, added, seq - 1);
      return [{ seq, accountIds: added }];
    });
    await this.announce(groupId, changed);
    return this.detail(principal, groupId);
  }

  /** Removes another member (admins), or yourself (leaving). */
  async removeMember(principal: Principal, groupId: string, accountId: string): Promise<void> {
    if (accountId === principal.accountId) return this.leave(principal, groupId);
    const changed = await this.storage.transaction(async (tx) => {
      const { me, target } = await this.adminActsOn(tx, principal, groupId, accountId);
      // Only the owner may remove an admin; nobody removes the owner.
      if (target.role === 'admin' && me.role !== 'owner') throw new CourierError('GROUP_NOT_OWNER');
      const seq = await this.appendRoster(tx, groupId, principal, {
        action: 'removed',
        subjectAccountIds: [accountId],
      });
      await this.dropMember(tx, groupId, accountId);
      return [{ seq, accountIds: [accountId] }];
    });
    await this.announce(groupId, changed);
  }

  /** Leaves a group; an owner who leaves hands the group to the longest-standing admin or member. */
  async leave(principal: Principal, groupId: string): Promise<void> {
    const changed = await this.storage.transaction(async (tx) => {
      const { group, me } = await this.membership(tx, principal, groupId);
      this.requireMutable(group);
      return this.depart(tx, principal, groupId, me);
    });
    await this.announce(groupId, changed);
  }

  /** Removes a member who leaves; an owner hands the group on. Returns the roster changes. */
  private async depart(tx: Stores, principal: Principal, groupId: string, me: MemberRow) {
    let seq = await this.appendRoster(tx, groupId, principal, {
      action: 'left',
      subjectAccountIds: [me.accountId],
    });
    await this.dropMember(tx, groupId, me.accountId);
    const changes = [{ seq, accountIds: [me.accountId] }];
    if (me.role === 'owner') {
      const rest = await tx.groups.members(groupId);
      const heir = rest.find((m) => m.role === 'admin') ?? rest[0];
      if (heir) {
        seq = await this.appendRoster(tx, groupId, principal, {
          action: 'role_changed',
          subjectAccountIds: [heir.accountId],
          role: 'owner',
        });
        await tx.groups.setRole(groupId, heir.accountId, 'owner');
        changes.push({ seq, accountIds: [] });
      }
    }
    return changes;
  }

  /**
   * Takes a deleted account out of every chat, direct chats included: each chat's log records that
   * it left, and groups it owned pass to their longest-standing admin or member.
   */
  async departEverywhere(accountId: string): Promise<void> {
    const principal = { accountId, deviceId: '', tokenHash: '' };
    for (const group of await this.storage.groups.forAccount(accountId)) {
      const changed = await this.storage.transaction(async (tx) => {
        const me = await tx.groups.member(group.id, accountId);
        if (!me) return [];
        return this.depart(tx, principal, group.id, me);
      });
      await this.announce(group.id, changed);
    }
  }

  /**
   * Records in each chat of the account that one of its devices is ready to be added to the chats'
   * MLS groups (it published its first key packages): the account's other devices and the chats'
   * admins see it in the log and commit the Add.
   */
  async announceDevice(principal: Principal): Promise<void> {
    for (const group of await this.storage.groups.forAccount(principal.accountId)) {
      const seq = await this.storage.transaction(async (tx) =>
        this.appendRoster(tx, group.id, principal, {
          action: 'device_added',
          subjectAccountIds: [principal.accountId],
        }),
      );
      await this.announce(group.id, [{ seq, accountIds: [] }]);
    }
  }

  async setRole(
    principal: Principal,
    groupId: string,
    accountId: string,
    role: 'admin' | 'member',
  ): Promise<GroupDetailView> {
    const changed = await this.storage.transaction(async (tx) => {
      const { me, target } = await this.adminActsOn(tx, principal, groupId, accountId);
      // Admins promote; only the owner demotes an admin; the owner's role is not changed this way.
      if (target.role === 'admin' && role === 'member' && me.role !== 'owner')
        throw new CourierError('GROUP_NOT_OWNER');
      if (target.role === role) return [];
      const seq = await this.appendRoster(tx, groupId, principal, {
        action: 'role_changed',
        subjectAccountIds: [accountId],
        role,
      });
      await tx.groups.setRole(groupId, accountId, role);
      return [{ seq, accountIds: [] }];
    });
    await this.announce(groupId, changed);
    return this.detail(principal, groupId);
  }

  private async insertGroup(
    kind: GroupRow['kind'],
    title: string,
    principal: Principal,
    others: readonly string[],
    directKey: string | null,
  ): Promise<GroupRow> {
    const now = this.deps.clock.now();
    const group: GroupRow = {
      id: newId('group', this.deps.random),
      kind,
      title,
      createdBy: principal.accountId,
      createdAt: now,
      lastSeq: 0,
      memberCount: others.length + 1,
      directKey,
    };
    const everyone = [principal.accountId, ...others];
    const seq = await this.storage.transaction(async (tx) => {
      await tx.groups.insert(group);
      // The creating device starts the chat's MLS group alone, at epoch 0, in leaf 0; it then commits
      // the Adds of the other members' devices.
      await tx.mlsGroups.create(group.id, { accountId: principal.accountId, deviceId: principal.deviceId });
      const seq = await this.appendRoster(tx, group.id, principal, {
        action: 'created',
        subjectAccountIds: everyone,
        title,
      });
      const creatorRole: Role = kind === 'direct' ? 'member' : 'owner';
      await tx.groups.insertMembers([
        this.memberRow(group.id, principal.accountId, creatorRole, seq),
        ...others.map((id) => this.memberRow(group.id, id, 'member', seq)),
      ]);
      await this.startCursors(tx, group.id, everyone, seq - 1);
      return seq;
    });
    await this.announce(group.id, [{ seq, accountIds: everyone }]);
    return { ...group, lastSeq: seq };
  }

  private memberRow(groupId: string, accountId: string, role: Role, seq: number): MemberRow {
    return { groupId, accountId, role, joinedAt: this.deps.clock.now(), joinedSeq: seq };
  }

  private async membership(stores: Stores, principal: Principal, groupId: string) {
    const group = isId('group', groupId) ? await stores.groups.byId(groupId) : undefined;
    const me = group && (await stores.groups.member(groupId, principal.accountId));
    if (!group || !me) throw new CourierError('GROUP_NOT_FOUND');
    return { group, me };
  }

  /** An admin of a mutable group acting on another member, who is not the owner. */
  private async adminActsOn(tx: Stores, principal: Principal, groupId: string, accountId: string) {
    const { group, me } = await this.membership(tx, principal, groupId);
    this.requireMutable(group);
    if (!isAdmin(me.role)) throw new CourierError('GROUP_NOT_ADMIN');
    const target = await tx.groups.member(groupId, accountId);
    if (!target)
      throw new CourierError('GROUP_NOT_MEMBER', { message: 'That person is not a member of this group.' });
    if (target.role === 'owner') throw new CourierError('GROUP_NOT_OWNER');
    return { me, target };
  }

  private requireMutable(group: GroupRow): void {
    if (group.kind === 'direct') throw new CourierError('GROUP_DIRECT_IMMUTABLE');
  }

  private capExceeded(current: number, wanted: number): never {
    throw new CourierError('GROUP_MEMBER_CAP_EXCEEDED', {
      details: { cap: this.memberCap, current, wanted },
    });
  }

  private async existingAccounts(ids: readonly string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    const found = new Set(
      (await this.storage.accounts.byIds(unique.filter((id) => isId('account', id)))).map((a) => a.id),
    );
    const missing = unique.filter((id) => !found.has(id));
    if (missing.length > 0)
      throw new CourierError('ACCOUNT_NOT_FOUND', { details: { accountIds: missing.slice(0, 20) } });
    return unique;
  }

  private async startCursors(
    tx: Stores,
    groupId: string,
    accountIds: readonly string[],
    ackedSeq: number,
  ): Promise<void> {
    const devices = await tx.devices.idsByAccounts(accountIds);
    await tx.cursors.start(
      devices.map((d) => d.id),
      groupId,
      ackedSeq,
    );
  }

  private async dropMember(tx: Stores, groupId: string, accountId: string): Promise<void> {
    await tx.groups.deleteMember(groupId, accountId);
    await tx.groups.adjustMemberCount(groupId, -1);
    const devices = await tx.devices.idsByAccounts([accountId]);
    await tx.cursors.deleteForGroup(
      groupId,
      devices.map((d) => d.id),
    );
  }

  private async appendRoster(
    tx: Stores,
    groupId: string,
    principal: Principal,
    event: Pick<RosterEvent, 'action' | 'subjectAccountIds'> & Partial<RosterEvent>,
  ): Promise<number> {
    const seq = await tx.groups.allocateSeq(groupId, 1);
    const payload = encodeRosterEvent({ role: '', title: '', ...event, actorAccountId: principal.accountId });
    await tx.entries.insert([
      {
        groupId,
        seq,
        kind: 'roster',
        senderAccountId: principal.accountId,
        senderDeviceId: '',
        clientMsgId: `roster-${seq}`,
        payload,
        createdAt: this.deps.clock.now(),
      },
    ]);
    return seq;
  }

  /** After commit: nodes reload the memberships of the accounts named and fetch the new entries. */
  private async announce(groupId: string, changes: { seq: number; accountIds: string[] }[]): Promise<void> {
    if (changes.length === 0) return;
    const accountIds = [...new Set(changes.flatMap((c) => c.accountIds))];
    if (accountIds.length > 0) await this.bus.publish({ type: 'membership_changed', groupId, accountIds });
    await this.bus.publish({
      type: 'groups_appended',
      groups: [[groupId, Math.max(...changes.map((c) => c.seq))]],
    });
  }
}
