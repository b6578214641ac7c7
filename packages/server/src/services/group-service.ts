import {
  CourierError,
  encodeRosterEvent,
  type GroupDetailView,
  type GroupView,
  isId,
  MAX_GROUP_TITLE_LENGTH,
  UNSAFE_TEXT_PATTERN,
  newId,
  type RequestView,
  type RosterEvent,
} from '@courier/protocol';
import type { Bus } from '../bus/ports.ts';
import type { ServerDeps } from '../deps.ts';
import type { GroupRow, MemberConsent, MemberRow, Stores, Storage } from '../storage/ports.ts';
import { isUniqueViolation } from '../storage/kysely/unique-violation.ts';
import { isContact } from '../privacy/audience.ts';
import type { Principal } from './auth-service.ts';
import type { ConsentLimits } from './consent-limits.ts';

type Role = MemberRow['role'];
const isAdmin = (role: Role) => role === 'owner' || role === 'admin';

const view = (g: GroupRow, myRole: Role, consent: MemberConsent = 'accepted'): GroupView => ({
  groupId: g.id,
  kind: g.kind,
  title: g.title,
  createdAtMs: g.createdAt,
  lastSeq: g.lastSeq,
  memberCount: g.memberCount,
  myRole,
  ...(consent === 'pending' ? { request: true as const } : {}),
});

/** Who an add puts on the roster, who gets an invitation, and whose invitation is dropped (blocked). */
interface Admission {
  add: string[];
  invite: string[];
  drop: string[];
}

/** Chats and their rosters. Every roster change is also an entry in the group's log. */
export class GroupService {
  constructor(
    private readonly storage: Storage,
    private readonly bus: Bus,
    private readonly memberCap: number,
    private readonly deps: Pick<ServerDeps, 'clock' | 'random'>,
    private readonly limits: ConsentLimits,
  ) {}

  /** My chats; message requests are marked (`request`), declined chats are gone from the list. */
  async list(principal: Principal): Promise<GroupView[]> {
    return (await this.storage.groups.forAccount(principal.accountId))
      .filter((g) => g.consent !== 'declined')
      .map((g) => view(g, g.role, g.consent));
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
      ...view(group, me.role, me.consent),
      members: members.map((m) => ({ accountId: m.accountId, role: m.role, joinedAtMs: m.joinedAt })),
    };
  }

  /**
   * Creates a group. The people named whose `groupAdd` setting lets the creator add them are on the
   * roster at once; the others get an invitation (people who blocked the creator get nothing, and the
   * creator cannot tell the two apart: neither is on the roster).
   */
  async create(
    principal: Principal,
    title: string,
    memberIds: readonly string[],
    source?: string,
  ): Promise<GroupDetailView> {
    const cleanTitle = title.trim();
    if (
      cleanTitle.length < 1 ||
      cleanTitle.length > MAX_GROUP_TITLE_LENGTH ||
      UNSAFE_TEXT_PATTERN.test(cleanTitle)
    )
      throw new CourierError('GROUP_TITLE_INVALID');
    const others = await this.existingAccounts(memberIds.filter((id) => id !== principal.accountId));
    if (others.length + 1 > this.memberCap) this.capExceeded(0, others.length + 1);
    const admission = await this.admit(this.storage, principal.accountId, others);
    await this.limits.take(principal.accountId, source, admission.invite.length + admission.drop.length);
    const group = await this.insertGroup(
      'group',
      cleanTitle,
      principal,
      admission.add,
      null,
      () => 'accepted',
    );
    await this.invite(this.storage, group.id, principal.accountId, admission.invite);
    return this.detail(principal, group.id);
  }

  /**
   * The one direct chat of two people: returned if it exists, created otherwise. A new chat is a
   * message request for the other person (counted against the opener's request limits); opening a
   * request someone else sent accepts it. A chat I declined is left to its opener and I start a new
   * one. Someone I was blocked by gets a chat that looks the same to me, never delivered to them.
   */
  async openDirect(principal: Principal, otherId: string, source?: string): Promise<GroupDetailView> {
    if (otherId === principal.accountId) throw new CourierError('GROUP_SELF_DIRECT');
    const [other] = await this.existingAccounts([otherId]);
    const key = [principal.accountId, other!].sort().join(':');
    let group = await this.storage.groups.byDirectKey(key);
    if (group) {
      const me = await this.storage.groups.member(group.id, principal.accountId);
      if (me?.consent === 'pending')
        await this.storage.groups.setConsent(group.id, principal.accountId, 'accepted');
      if (me && me.consent !== 'declined') return this.detail(principal, group.id);
      // I declined that chat: it stays its opener's, and its request (if still waiting) is withdrawn.
      await this.storage.groups.detachDirect(group.id);
      await this.withdrawRequest(group.id, other!);
      group = undefined;
    }
    await this.limits.take(principal.accountId, source, 1);
    const blocked = await this.storage.blocks.isBlocked(other!, principal.accountId);
    try {
      group = await this.insertGroup('direct', '', principal, [other!], key, (id) =>
        id === principal.accountId ? 'accepted' : blocked ? 'declined' : 'pending',
      );
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // The other person opened it at the same moment: that chat it is, accepted by opening it.
      group = await this.storage.groups.byDirectKey(key);
      if (group) await this.storage.groups.setConsent(group.id, principal.accountId, 'accepted');
    }
    return this.detail(principal, group!.id);
  }

  /** Accepts a message request (a direct chat) or a group invitation. */
  async accept(principal: Principal, groupId: string): Promise<GroupDetailView> {
    const me = isId('group', groupId)
      ? await this.storage.groups.member(groupId, principal.accountId)
      : undefined;
    if (me?.consent === 'pending') {
      await this.storage.groups.setConsent(groupId, principal.accountId, 'accepted');
      return this.detail(principal, groupId);
    }
    if (me?.consent === 'accepted') return this.detail(principal, groupId);
    return this.joinByInvitation(principal, groupId);
  }

  /**
   * Declines a message request or an invitation, silently: the other person's view of the chat does
   * not change. The asker's refusals are counted (many of them slow the asker down).
   */
  async decline(principal: Principal, groupId: string): Promise<void> {
    if (!isId('group', groupId)) throw new CourierError('CONSENT_REQUEST_NOT_FOUND');
    const me = await this.storage.groups.member(groupId, principal.accountId);
    if (me?.consent === 'pending') {
      const group = await this.storage.groups.byId(groupId);
      await this.declineChat(principal.accountId, groupId);
      await this.limits.refused(group!.createdBy);
      return;
    }
    const invitation = await this.storage.invitations.get(groupId, principal.accountId);
    if (!invitation || !(await this.storage.invitations.delete(groupId, principal.accountId)))
      throw new CourierError('CONSENT_REQUEST_NOT_FOUND');
    await this.limits.refused(invitation.inviterId);
  }

  /**
   * Stops delivering a chat to this account without a trace in the chat's log: its devices lose
   * their place in it and drop it from their live connections.
   */
  async declineChat(accountId: string, groupId: string): Promise<void> {
    await this.storage.transaction(async (tx) => {
      await tx.groups.setConsent(groupId, accountId, 'declined');
      const devices = await tx.devices.idsByAccounts([accountId]);
      await tx.cursors.deleteForGroup(
        groupId,
        devices.map((d) => d.id),
      );
    });
    // A signal between nodes only (never sent to a client): the account's connections reload.
    await this.bus.publish({ type: 'membership_changed', groupId, accountIds: [accountId] });
  }

  /** Drops a message request that can no longer lead anywhere (its opener is gone from the chat). */
  private async withdrawRequest(groupId: string, accountId: string): Promise<void> {
    const member = await this.storage.groups.member(groupId, accountId);
    if (member?.consent === 'pending') await this.declineChat(accountId, groupId);
  }

  /** Puts the invitee on the roster; the roster→admin reconcile then commits their devices' MLS Add. */
  private async joinByInvitation(principal: Principal, groupId: string): Promise<GroupDetailView> {
    const changed = await this.storage.transaction(async (tx) => {
      await tx.groups.lockGroups([groupId]);
      const invitation = await tx.invitations.get(groupId, principal.accountId);
      if (!invitation) throw new CourierError('CONSENT_REQUEST_NOT_FOUND');
      await tx.invitations.delete(groupId, principal.accountId);
      if (await tx.groups.member(groupId, principal.accountId)) return [];
      const count = await tx.groups.adjustMemberCount(groupId, 1);
      if (count > this.memberCap) this.capExceeded(count - 1, count);
      // The log says the invitee added themselves (joined); admins' devices then add their devices.
      const seq = await this.appendRoster(tx, groupId, principal, {
        action: 'added',
        subjectAccountIds: [principal.accountId],
      });
      await tx.groups.insertMembers([this.memberRow(groupId, principal.accountId, 'member', seq)]);
      await this.startCursors(tx, groupId, [principal.accountId], seq - 1);
      return [{ seq, accountIds: [principal.accountId] }];
    });
    await this.announce(groupId, changed);
    return this.detail(principal, groupId);
  }

  /** Invitations waiting for the account, and message requests (direct chats it has not accepted). */
  async requests(principal: Principal): Promise<RequestView[]> {
    const requests: RequestView[] = [];
    for (const g of await this.storage.groups.forAccount(principal.accountId)) {
      // A request whose opener is gone (left, or deleted their account) waits for nothing.
      if (g.kind !== 'direct' || g.consent !== 'pending' || g.memberCount < 2) continue;
      const me = await this.storage.groups.member(g.id, principal.accountId);
      requests.push({ type: 'direct', groupId: g.id, fromAccountId: g.createdBy, createdAtMs: me!.joinedAt });
    }
    for (const inv of await this.storage.invitations.forAccount(principal.accountId)) {
      const g = await this.storage.groups.byId(inv.groupId);
      if (!g) continue;
      requests.push({
        type: 'invitation',
        groupId: g.id,
        title: g.title,
        fromAccountId: inv.inviterId,
        memberCount: g.memberCount,
        createdAtMs: inv.createdAt,
      });
    }
    return requests.sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  /**
   * Sorts the people an add names: those whose `groupAdd` lets this adder are added, the others get
   * an invitation, and those who blocked the adder are dropped (the adder sees the same as for an
   * invitation: the person is not on the roster).
   */
  private async admit(stores: Stores, adderId: string, candidates: readonly string[]): Promise<Admission> {
    const admission: Admission = { add: [], invite: [], drop: [] };
    if (candidates.length === 0) return admission;
    const blockers = new Set(await stores.blocks.blockersAmong(adderId, candidates));
    const accounts = new Map((await stores.accounts.byIds(candidates)).map((a) => [a.id, a]));
    for (const id of candidates) {
      const setting = accounts.get(id)?.privacy.groupAdd ?? 'contacts';
      if (blockers.has(id)) admission.drop.push(id);
      else if (setting === 'everybody') admission.add.push(id);
      else if (setting === 'contacts' && (await isContact(stores, adderId, id))) admission.add.push(id);
      else admission.invite.push(id);
    }
    return admission;
  }

  private async invite(stores: Stores, groupId: string, inviterId: string, accountIds: readonly string[]) {
    const now = this.deps.clock.now();
    await stores.invitations.put(
      accountIds.map((accountId) => ({ groupId, accountId, inviterId, createdAt: now })),
    );
  }

  /**
   * Adds people to a group (admins). As for `create`, people whose `groupAdd` setting does not let
   * this admin add them get an invitation instead; the work is per person added, never per member.
   */
  async addMembers(
    principal: Principal,
    groupId: string,
    accountIds: readonly string[],
    source?: string,
  ): Promise<GroupDetailView> {
    const candidates = await this.existingAccounts(accountIds);
    const outsiders = await this.admit(this.storage, principal.accountId, candidates);
    await this.limits.take(principal.accountId, source, outsiders.invite.length + outsiders.drop.length);
    const changed = await this.storage.transaction(async (tx) => {
      // Lock the group first: two admins adding the same person at once must see each other.
      await tx.groups.lockGroups([groupId]);
      const { group, me } = await this.membership(tx, principal, groupId);
      this.requireMutable(group);
      if (!isAdmin(me.role)) throw new CourierError('GROUP_NOT_ADMIN');
      const already = new Set(await tx.groups.existingMembers(groupId, candidates));
      await this.invite(
        tx,
        groupId,
        principal.accountId,
        outsiders.invite.filter((id) => !already.has(id)),
      );
      const added = outsiders.add.filter((id) => !already.has(id));
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

  /**
   * Leaves a chat; an owner who leaves a group hands it to the longest-standing admin or member.
   * Either person may leave a direct chat: the contact ends, and the next open makes a new chat.
   */
  async leave(principal: Principal, groupId: string): Promise<void> {
    // Deleting a message request is declining it: silent, unlike leaving a chat one accepted.
    const mine = isId('group', groupId)
      ? await this.storage.groups.member(groupId, principal.accountId)
      : undefined;
    if (mine?.consent === 'pending') return this.decline(principal, groupId);
    const changed = await this.storage.transaction(async (tx) => {
      const { group, me } = await this.membership(tx, principal, groupId);
      if (group.kind === 'direct') await tx.groups.detachDirect(groupId);
      return this.depart(tx, principal, groupId, me);
    });
    await this.announce(groupId, changed);
    // A request whose opener left is no request any more.
    for (const rest of await this.storage.groups.members(groupId))
      await this.withdrawRequest(groupId, rest.accountId);
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
      // A declined chat must not learn that its decliner has a new device.
      if (group.consent === 'declined') continue;
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
    consentOf: (accountId: string) => MemberConsent,
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
        this.memberRow(group.id, principal.accountId, creatorRole, seq, consentOf(principal.accountId)),
        ...others.map((id) => this.memberRow(group.id, id, 'member', seq, consentOf(id))),
      ]);
      await this.startCursors(
        tx,
        group.id,
        everyone.filter((id) => consentOf(id) !== 'declined'),
        seq - 1,
      );
      return seq;
    });
    await this.announce(group.id, [{ seq, accountIds: everyone }]);
    return { ...group, lastSeq: seq };
  }

  private memberRow(
    groupId: string,
    accountId: string,
    role: Role,
    seq: number,
    consent: MemberConsent = 'accepted',
  ): MemberRow {
    return { groupId, accountId, role, joinedAt: this.deps.clock.now(), joinedSeq: seq, consent };
  }

  /** The chat and my membership; a chat I declined is, for me, a chat that does not exist. */
  private async membership(stores: Stores, principal: Principal, groupId: string) {
    const group = isId('group', groupId) ? await stores.groups.byId(groupId) : undefined;
    const me = group && (await stores.groups.member(groupId, principal.accountId));
    if (!group || !me || me.consent === 'declined') throw new CourierError('GROUP_NOT_FOUND');
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
