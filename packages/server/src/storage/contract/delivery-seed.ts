import { DEFAULT_PRIVACY, type Stores } from '../ports.ts';

/** Accounts, their devices and groups with members, for the delivery path's tests. */
export interface DeliverySeed {
  accounts: readonly string[];
  /** [device id, account id] */
  devices: readonly (readonly [string, string])[];
  /** [group id, member account ids (the first owns it), the members' joined sequence number] */
  groups: readonly (readonly [string, readonly string[], number])[];
}

let phones = 0;

/** Writes a seed with every id passed through `t` (so that each history has ids of its own). */
export async function seedDelivery(
  stores: Stores,
  t: (id: string) => string,
  seed: DeliverySeed,
): Promise<void> {
  for (const id of seed.accounts) {
    phones += 1;
    await stores.accounts.insert({
      id: t(id),
      phone: `+1555${String(phones).padStart(7, '0')}`,
      username: null,
      displayName: '',
      createdAt: 1,
      lastSeenDay: null,
      privacy: DEFAULT_PRIVACY,
    });
  }
  for (const [id, accountId] of seed.devices)
    await stores.devices.insert({
      id: t(id),
      accountId: t(accountId),
      name: 'phone',
      createdAt: 1,
      lastSeenAt: null,
    });
  for (const [id, members, joinedSeq] of seed.groups) {
    await stores.groups.insert({
      id: t(id),
      kind: 'group',
      title: id,
      createdBy: t(members[0]!),
      createdAt: 1,
      lastSeq: 0,
      memberCount: members.length,
      directKey: null,
    });
    await stores.groups.insertMembers(
      members.map((accountId, i) => ({
        groupId: t(id),
        accountId: t(accountId),
        role: i === 0 ? ('owner' as const) : ('member' as const),
        joinedAt: 1,
        joinedSeq,
        consent: 'accepted' as const,
      })),
    );
  }
}
