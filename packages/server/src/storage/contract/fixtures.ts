import { randomInt } from 'node:crypto';
import {
  type AccountRow,
  DEFAULT_PRIVACY,
  type DeskAccountRow,
  type DeviceRow,
  type EntryRow,
  type GroupRow,
  type LegalCaseRow,
  type MailboxRow,
  type MemberRow,
  type Stores,
} from '../ports.ts';

/** Rows for the contract suite, with ids unique within one database. */
export class Fixtures {
  private counter = 0;
  private readonly tag = String(randomInt(100_000, 999_999));

  constructor(private readonly stores: Stores) {}

  id(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.tag}${String(this.counter).padStart(8, '0')}`;
  }

  phone(): string {
    this.counter += 1;
    return `+1555${this.tag}${String(this.counter).padStart(6, '0')}`;
  }

  accountRow(overrides: Partial<AccountRow> = {}): AccountRow {
    return {
      id: this.id('u'),
      phone: this.phone(),
      username: null,
      displayName: '',
      createdAt: 1_000,
      lastSeenDay: null,
      privacy: DEFAULT_PRIVACY,
      ...overrides,
    };
  }

  async account(overrides: Partial<AccountRow> = {}): Promise<AccountRow> {
    const row = this.accountRow(overrides);
    await this.stores.accounts.insert(row);
    return row;
  }

  async device(accountId: string, overrides: Partial<DeviceRow> = {}): Promise<DeviceRow> {
    const row: DeviceRow = {
      id: this.id('d'),
      accountId,
      name: 'phone',
      createdAt: 1_000,
      lastSeenAt: null,
      ...overrides,
    };
    await this.stores.devices.insert(row);
    return row;
  }

  /** An account with `deviceCount` devices. */
  async user(deviceCount = 1): Promise<{ account: AccountRow; devices: DeviceRow[] }> {
    const account = await this.account();
    const devices: DeviceRow[] = [];
    for (let i = 0; i < deviceCount; i++)
      devices.push(await this.device(account.id, { createdAt: 1_000 + i }));
    return { account, devices };
  }

  /** A group of these members (the first is the owner), all joined at `joinedSeq` unless told. */
  async group(
    memberIds: readonly string[],
    options: {
      joinedSeq?: number | ((accountId: string) => number);
      overrides?: Partial<GroupRow>;
    } = {},
  ): Promise<GroupRow> {
    const row: GroupRow = {
      id: this.id('g'),
      kind: 'group',
      title: 'Climbers',
      createdBy: memberIds[0] ?? 'u_nobody',
      createdAt: 1_000,
      lastSeq: 0,
      memberCount: memberIds.length,
      directKey: null,
      ...options.overrides,
    };
    await this.stores.groups.insert(row);
    const joined = options.joinedSeq ?? 1;
    await this.stores.groups.insertMembers(
      memberIds.map(
        (accountId, i): MemberRow => ({
          groupId: row.id,
          accountId,
          role: i === 0 ? 'owner' : 'member',
          consent: 'accepted',
          joinedAt: 1_000,
          joinedSeq: typeof joined === 'number' ? joined : joined(accountId),
        }),
      ),
    );
    return row;
  }

  entry(groupId: string, seq: number, overrides: Partial<EntryRow> = {}): EntryRow {
    return {
      groupId,
      seq,
      kind: 'message',
      senderAccountId: 'u_sender',
      senderDeviceId: 'd_sender',
      clientMsgId: `${groupId}-m${seq}`,
      payload: new Uint8Array([seq & 255, 0, 255]),
      createdAt: 1_000 + seq,
      ...overrides,
    };
  }

  mailboxItem(deviceId: string, seq: number, overrides: Partial<MailboxRow> = {}): MailboxRow {
    return {
      deviceId,
      seq,
      kind: 'device',
      senderAccountId: 'u_sender',
      senderDeviceId: 'd_sender',
      clientMsgId: `${deviceId}-w${seq}`,
      payload: new Uint8Array([seq & 255, 1, 2, 3]),
      createdAt: 1_000 + seq,
      ...overrides,
    };
  }

  legalCase(overrides: Partial<LegalCaseRow> = {}): LegalCaseRow {
    return {
      id: this.id('case'),
      receivedAt: 1_000,
      status: 'awaiting_approval',
      request: '{"case":"ref"}',
      decision: '{"accounts":[]}',
      documentSha256: 'ab'.repeat(32),
      commitmentSalt: 'salt',
      submittedBy: 'staff_intake',
      package: null,
      closedAt: null,
      authorityId: null,
      declineReason: null,
      ...overrides,
    };
  }

  deskAccount(overrides: Partial<DeskAccountRow> = {}): DeskAccountRow {
    const id = this.id('desk');
    return {
      id,
      kind: 'staff',
      username: `staff-${id}`,
      displayName: 'Staff Member',
      passwordHash: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA',
      totpSecret: 'JBSWY3DPEHPK3PXP',
      roles: ['reviewer', 'approver'],
      country: null,
      authorityKind: null,
      createdAt: 1_000,
      disabledAt: null,
      ...overrides,
    };
  }
}

/** The sequence numbers of some rows, in the order given. */
export const seqsOf = (rows: readonly { seq: number }[]): number[] => rows.map((r) => r.seq);

/** from..to, inclusive. */
export function seqRange(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Exact byte equality, whatever view type each side is. */
export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
