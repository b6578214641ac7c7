import type { Audience, PrivacySettingsView } from '@courier/protocol';

/**
 * What the services may ask of storage. Stores are thin (one table family, no policy); every
 * adapter implements these over its own driver and passes the one contract suite.
 */

export type { Audience };
export type PrivacySettings = PrivacySettingsView;

export const DEFAULT_PRIVACY: PrivacySettings = {
  phoneVisibility: 'contacts',
  phoneDiscovery: 'everybody',
  lastSeenVisibility: 'contacts',
  selfDestructMonths: 6,
  groupAdd: 'contacts',
};

export interface AccountRow {
  id: string;
  phone: string;
  username: string | null;
  displayName: string;
  createdAt: number;
  lastSeenDay: number | null;
  privacy: PrivacySettings;
}

export interface DeviceRow {
  id: string;
  accountId: string;
  name: string;
  createdAt: number;
  lastSeenAt: number | null;
}

export interface SessionRow {
  tokenHash: string;
  deviceId: string;
  accountId: string;
  createdAt: number;
  lastUsedAt: number;
}

/** One code sent by SMS, named by a random verification id that only its requester learns. */
export interface AuthCodeRow {
  id: string;
  phone: string;
  codeHash: string;
  expiresAt: number;
  attempts: number;
  consumedAt: number | null;
  createdAt: number;
}

export interface ConnectionRecord {
  deviceId: string;
  accountId: string;
  ip: string;
  at: number;
}

export interface GroupRow {
  id: string;
  kind: 'direct' | 'group';
  title: string;
  createdBy: string;
  createdAt: number;
  lastSeq: number;
  memberCount: number;
  directKey: string | null;
}

/**
 * A member's consent to a chat: `accepted` (opened or accepted it), `pending` (a direct chat someone
 * else opened: a message request) or `declined` (declined or blocked: nothing is delivered to them,
 * and the other person is not told).
 */
export type MemberConsent = 'accepted' | 'pending' | 'declined';

export interface MemberRow {
  groupId: string;
  accountId: string;
  role: 'owner' | 'admin' | 'member';
  joinedAt: number;
  joinedSeq: number;
  consent: MemberConsent;
}

/** One person blocking another. */
export interface BlockRow {
  blockerId: string;
  blockedId: string;
  createdAt: number;
}

/** A group invitation waiting for the invitee (who is not on the roster until they accept). */
export interface InvitationRow {
  groupId: string;
  accountId: string;
  inviterId: string;
  createdAt: number;
}

export interface EntryRow {
  groupId: string;
  seq: number;
  kind: 'message' | 'roster' | 'commit';
  senderAccountId: string;
  senderDeviceId: string;
  clientMsgId: string;
  payload: Uint8Array;
  createdAt: number;
}

export interface MailboxRow {
  deviceId: string;
  seq: number;
  kind: 'device' | 'welcome';
  senderAccountId: string;
  senderDeviceId: string;
  clientMsgId: string;
  payload: Uint8Array;
  createdAt: number;
}

/** A device's place in one of its groups. */
export interface DeviceMembership {
  groupId: string;
  lastSeq: number;
  ackedSeq: number;
}

/** A message to append to a group's log (`Storage.appendGroupMessages`). */
export interface GroupMessageAppend {
  groupId: string;
  senderAccountId: string;
  senderDeviceId: string;
  clientMsgId: string;
  payload: Uint8Array;
}

/**
 * What became of one append: stored at `seq`, stored before at `seq` (the same sender, client message
 * id and group), refused because the sender's account is not a member, or because the group is gone.
 */
export type GroupAppendOutcome =
  | { kind: 'stored'; seq: number }
  | { kind: 'duplicate'; seq: number }
  | { kind: 'not_member' }
  | { kind: 'group_not_found' };

/** Identifies a client's send: the sending device and its client message id. */
export interface ClientKey {
  senderDeviceId: string;
  clientMsgId: string;
}

/** Where a client's send was stored. */
export interface StoredSend extends ClientKey {
  /** Group id (group entries) or recipient device id (mailbox items). */
  target: string;
  seq: number;
}

export interface CursorUpdate {
  deviceId: string;
  groupId: string;
  ackedSeq: number;
}

export interface AccountStore {
  insert(row: AccountRow): Promise<void>;
  byId(id: string): Promise<AccountRow | undefined>;
  byIds(ids: readonly string[]): Promise<AccountRow[]>;
  byPhone(phone: string): Promise<AccountRow | undefined>;
  byUsername(username: string): Promise<AccountRow | undefined>;
  /** Returns false when another account holds the username (case-insensitively). */
  setUsername(id: string, username: string | null): Promise<boolean>;
  setDisplayName(id: string, displayName: string): Promise<void>;
  touchLastSeenDay(ids: readonly string[], day: number): Promise<void>;
  setPrivacy(id: string, privacy: PrivacySettings): Promise<void>;
  /** Accounts whose last activity (or creation) is older than their own self-destruct period. */
  expired(now: number): Promise<string[]>;
  delete(id: string): Promise<void>;
}

export interface PolicyAcceptanceStore {
  accept(accountId: string, version: string, at: number): Promise<void>;
  accepted(accountId: string): Promise<{ version: string; acceptedAt: number }[]>;
}

export interface DeviceStore {
  insert(row: DeviceRow): Promise<void>;
  byId(id: string): Promise<DeviceRow | undefined>;
  byAccount(accountId: string): Promise<DeviceRow[]>;
  idsByAccounts(accountIds: readonly string[]): Promise<{ id: string; accountId: string }[]>;
  delete(id: string): Promise<void>;
  touchLastSeen(ids: readonly string[], at: number): Promise<void>;
  /** Reserves `count` mailbox sequence numbers; returns the last one. */
  allocateMailboxSeq(id: string, count: number): Promise<number>;
}

export interface SessionStore {
  insert(row: SessionRow): Promise<void>;
  byTokenHash(tokenHash: string): Promise<SessionRow | undefined>;
  /** Which of these token hashes still have a session (any number, read in chunks). */
  existing(tokenHashes: readonly string[]): Promise<Set<string>>;
  deleteByTokenHash(tokenHash: string): Promise<void>;
  deleteByDevice(deviceId: string): Promise<void>;
  touch(tokenHashes: readonly string[], at: number): Promise<void>;
  byAccount(accountId: string): Promise<SessionRow[]>;
  /** Deletes sessions unused since `before`; returns how many. */
  deleteUnusedSince(before: number): Promise<number>;
}

export interface AuthCodeStore {
  put(row: AuthCodeRow): Promise<void>;
  byId(id: string): Promise<AuthCodeRow | undefined>;
  /**
   * Counts one attempt on the code `id` for `phone` if it is live (not expired at `now`, not consumed,
   * fewer than `maxAttempts` attempts so far), in one conditional write; returns its hash and the new
   * count, or undefined when no attempt was left to take (however many callers race).
   */
  attempt(
    id: string,
    phone: string,
    now: number,
    maxAttempts: number,
  ): Promise<{ codeHash: string; attempts: number } | undefined>;
  /** Marks the code consumed if it is live and has this hash, in one conditional write: true for exactly one caller. */
  consume(id: string, codeHash: string, now: number): Promise<boolean>;
  /** The code `id` (its SMS could not be sent). */
  delete(id: string): Promise<void>;
  /** Every code sent to the number (erasure); returns how many. */
  deleteByPhone(phone: string): Promise<number>;
  deleteExpired(now: number): Promise<number>;
}

export interface RateLimitStore {
  /** Counts one hit for the key in a fixed window and returns the count in the current window. */
  hit(key: string, now: number, windowMs: number): Promise<number>;
  /**
   * Counts one hit only if the window holds fewer than `max`, in one conditional write: true when
   * the hit was counted. Concurrent callers never take more than `max` between them.
   */
  take(key: string, now: number, windowMs: number, max: number): Promise<boolean>;
  /** Gives back one hit taken at `now`, if its window is still the current one (what it paid for did not happen). */
  giveBack(key: string, now: number, windowMs: number): Promise<void>;
  /** The count of the key's current window (0 when it has none), without counting a hit. */
  current(key: string, now: number, windowMs: number): Promise<number>;
  /**
   * Deletes windows that began at or before `before`; returns how many. With `scope`, only the keys
   * that start with `prefix`, or all but those that start with `exceptPrefix` (windows of different
   * lengths share the table).
   */
  deleteExpired(before: number, scope?: { prefix: string } | { exceptPrefix: string }): Promise<number>;
  deleteKey(key: string): Promise<void>;
}

export interface ConnectionStore {
  record(records: readonly ConnectionRecord[]): Promise<void>;
  byAccount(accountId: string): Promise<ConnectionRecord[]>;
  /** With first sightings, for an account's export. */
  detailsByAccount(accountId: string): Promise<(ConnectionRecord & { firstSeen: number })[]>;
  deleteByAccount(accountId: string): Promise<number>;
  /** Deletes records last seen before `before`; returns how many. */
  deleteOlderThan(before: number): Promise<number>;
}

export interface GroupStore {
  insert(row: GroupRow): Promise<void>;
  byId(id: string): Promise<GroupRow | undefined>;
  byDirectKey(key: string): Promise<GroupRow | undefined>;
  /** Groups of an account, with the account's role and consent (declined chats included). */
  forAccount(accountId: string): Promise<(GroupRow & { role: MemberRow['role']; consent: MemberConsent })[]>;
  members(groupId: string): Promise<MemberRow[]>;
  member(groupId: string, accountId: string): Promise<MemberRow | undefined>;
  /** Which of these accounts are already members. */
  existingMembers(groupId: string, accountIds: readonly string[]): Promise<string[]>;
  insertMembers(rows: readonly MemberRow[]): Promise<void>;
  deleteMember(groupId: string, accountId: string): Promise<void>;
  setRole(groupId: string, accountId: string, role: MemberRow['role']): Promise<void>;
  /** Sets a member's consent; false when the account is not a member. */
  setConsent(groupId: string, accountId: string, consent: MemberConsent): Promise<boolean>;
  /** Frees a direct chat's key (after a decline or a leave), so the next open makes a new chat. */
  detachDirect(groupId: string): Promise<void>;
  /** Adds `delta` to the member count and returns the new count. */
  adjustMemberCount(groupId: string, delta: number): Promise<number>;
  /**
   * Reserves `count` sequence numbers in the group's log and returns the last one. It locks the
   * group's row until the transaction ends, so sequence numbers commit in order.
   */
  allocateSeq(groupId: string, count: number): Promise<number>;
  /**
   * The same for many groups in one round trip: returns each group's new last sequence number.
   * Rows are locked in id order, so concurrent batches on several nodes cannot deadlock.
   */
  allocateSeqs(counts: ReadonlyMap<string, number>): Promise<Map<string, number>>;
  /**
   * Locks these groups' rows (in id order) for the rest of the transaction, so that what is read
   * next (membership) cannot change before the transaction commits. SQLite has one writer anyway.
   */
  lockGroups(ids: readonly string[]): Promise<void>;
  /** The groups of a device's account with the device's acknowledged position in each (not declined ones). */
  membershipsOfDevice(deviceId: string, accountId: string): Promise<DeviceMembership[]>;
  membershipOfDevice(deviceId: string, groupId: string): Promise<DeviceMembership | undefined>;
  /** The current last sequence number of each of these groups. */
  lastSeqs(ids: readonly string[]): Promise<{ groupId: string; lastSeq: number }[]>;
  /** Is the account a member of the group (and has not declined it)? */
  isMember(groupId: string, accountId: string): Promise<boolean>;
  /** Are both accounts members of one chat (direct or group)? */
  shareChat(accountId: string, otherAccountId: string): Promise<boolean>;
  /** Of these (group, account) pairs, the ones that are memberships (one query for a whole batch). */
  memberPairs(
    pairs: readonly { groupId: string; accountId: string }[],
  ): Promise<{ groupId: string; accountId: string }[]>;
}

/** Who blocked whom. */
export interface BlockStore {
  /** Records a block (an existing one is kept as it was). */
  put(row: BlockRow): Promise<void>;
  /** Removes a block; false when there was none. */
  delete(blockerId: string, blockedId: string): Promise<boolean>;
  /** Has `blockerId` blocked `blockedId`? */
  isBlocked(blockerId: string, blockedId: string): Promise<boolean>;
  /** The people this account blocked, oldest first. */
  byBlocker(blockerId: string): Promise<BlockRow[]>;
  /** Of these accounts, the ones that blocked `blockedId` (one query for a batch). */
  blockersAmong(blockedId: string, accountIds: readonly string[]): Promise<string[]>;
  /** Deletes every block made by or naming the account; returns how many. */
  deleteByAccount(accountId: string): Promise<number>;
}

/** Group invitations waiting for their invitee. */
export interface InvitationStore {
  /** Records invitations (an existing one for the same group and person is kept). */
  put(rows: readonly InvitationRow[]): Promise<void>;
  get(groupId: string, accountId: string): Promise<InvitationRow | undefined>;
  /** The account's invitations, oldest first. */
  forAccount(accountId: string): Promise<InvitationRow[]>;
  /** The invitations this account sent that still wait, oldest first. */
  sentBy(inviterId: string): Promise<InvitationRow[]>;
  /** Removes one invitation; false when there was none. */
  delete(groupId: string, accountId: string): Promise<boolean>;
  /** Deletes the invitations to and from the account; returns how many. */
  deleteByAccount(accountId: string): Promise<number>;
}

export interface EntryStore {
  insert(rows: readonly EntryRow[]): Promise<void>;
  /** Entries already stored for these client keys (one query for a whole batch). */
  storedSends(keys: readonly ClientKey[]): Promise<StoredSend[]>;
  /**
   * Up to `limit` entries after `afterSeq`, in order; with `maxBytes`, only as many as fit in that
   * many payload bytes (but always the first, so a reader moves on past an entry larger than it).
   */
  range(groupId: string, afterSeq: number, limit: number, maxBytes?: number): Promise<EntryRow[]>;
  /** Deletes entries every member device acknowledged, and entries older than `olderThan`. */
  prune(olderThan: number): Promise<number>;
}

export interface CursorStore {
  /** Moves cursors forward; a cursor never moves back. */
  advance(updates: readonly CursorUpdate[]): Promise<void>;
  /** Sets the starting cursor of devices that join a group (existing cursors are overwritten). */
  start(deviceIds: readonly string[], groupId: string, ackedSeq: number): Promise<void>;
  deleteForGroup(groupId: string, deviceIds: readonly string[]): Promise<void>;
}

/** A device's MLS signature key and the server's certificate for it. */
export interface DeviceCredentialRow {
  deviceId: string;
  accountId: string;
  signatureKey: Uint8Array;
  /** DeviceCertificate as JSON */
  certificate: string;
  createdAt: number;
}

export interface KeyPackageRow {
  deviceId: string;
  /** KeyPackageRef, hex */
  ref: string;
  package: Uint8Array;
  lastResort: boolean;
  createdAt: number;
}

/** Device credentials and published key packages (public keys only). */
export interface KeyPackageStore {
  insertCredential(row: DeviceCredentialRow): Promise<void>;
  credential(deviceId: string): Promise<DeviceCredentialRow | undefined>;
  credentialsOfAccounts(accountIds: readonly string[]): Promise<DeviceCredentialRow[]>;
  /** Stores one-time key packages (an existing ref is kept) and, when given, replaces the last-resort one. */
  publish(
    deviceId: string,
    oneTime: readonly KeyPackageRow[],
    lastResort: KeyPackageRow | undefined,
  ): Promise<void>;
  stock(deviceId: string): Promise<{ oneTime: number; lastResort: boolean }>;
  /**
   * Takes one key package of the device: a one-time one (deleted), else the last-resort one (kept).
   * With `lastResortOnly`, only the last-resort one (a claim over a rate limit).
   */
  claim(deviceId: string, options?: { lastResortOnly?: boolean }): Promise<KeyPackageRow | undefined>;
}

export interface MlsLeafRow {
  groupId: string;
  leafIndex: number;
  accountId: string;
  deviceId: string;
}

/** Each group's MLS epoch, its leaf map and the ratchet trees served to joiners. */
export interface MlsGroupStore {
  /** Starts a group's MLS state at epoch 0 with its creator's device at leaf 0. */
  create(groupId: string, creator: { accountId: string; deviceId: string }): Promise<void>;
  epoch(groupId: string): Promise<number | undefined>;
  setEpoch(groupId: string, epoch: number): Promise<void>;
  leaves(groupId: string): Promise<MlsLeafRow[]>;
  removeLeaves(groupId: string, leafIndexes: readonly number[]): Promise<void>;
  insertLeaves(rows: readonly MlsLeafRow[]): Promise<void>;
  putTree(groupId: string, epoch: number, tree: Uint8Array, at: number): Promise<void>;
  tree(groupId: string, epoch: number): Promise<Uint8Array | undefined>;
  /** Deletes trees created before `before`, keeping each group's newest; returns how many. */
  pruneTrees(before: number): Promise<number>;
}

export interface MailboxStore {
  insert(rows: readonly MailboxRow[]): Promise<void>;
  /** Mailbox items already stored for these client keys. */
  storedSends(keys: readonly ClientKey[]): Promise<StoredSend[]>;
  /** As EntryStore.range, for a device's mailbox. */
  range(deviceId: string, afterSeq: number, limit: number, maxBytes?: number): Promise<MailboxRow[]>;
  deleteUpTo(deviceId: string, seq: number): Promise<void>;
  /** Payload bytes of the items waiting in a device's mailbox. */
  pendingBytes(deviceId: string): Promise<number>;
}

export interface LogLeafRow {
  idx: number;
  leaf: string;
  leafHash: Uint8Array;
  createdAt: number;
}

export interface LogCheckpointRow {
  size: number;
  rootHash: Uint8Array;
  note: string;
  createdAt: number;
}

/** The transparency log: append-only leaves and signed checkpoints. */
export interface TransparencyLogStore {
  /** Takes the log's write lock for the rest of the transaction (one appender at a time, on any node). */
  lock(): Promise<void>;
  size(): Promise<number>;
  append(row: LogLeafRow): Promise<void>;
  leaves(start: number, end: number): Promise<LogLeafRow[]>;
  leafHashes(): Promise<Uint8Array[]>;
  putCheckpoint(row: LogCheckpointRow): Promise<void>;
  latestCheckpoint(): Promise<LogCheckpointRow | undefined>;
  checkpoint(size: number): Promise<LogCheckpointRow | undefined>;
}

export type LegalCaseStatus =
  | 'not_considered'
  | 'rejected'
  | 'awaiting_approval'
  | 'approved'
  | 'declined'
  | 'produced';

export interface LegalCaseRow {
  id: string;
  receivedAt: number;
  status: LegalCaseStatus;
  request: string;
  decision: string;
  documentSha256: string;
  commitmentSalt: string;
  submittedBy: string;
  package: string | null;
  closedAt: number | null;
  authorityId: string | null;
  /** Why staff declined the case, as written: kept here, never published. */
  declineReason?: string | null;
}

export interface LegalCaseStore {
  insert(row: LegalCaseRow): Promise<void>;
  byId(id: string): Promise<LegalCaseRow | undefined>;
  list(): Promise<LegalCaseRow[]>;
  update(
    id: string,
    change: Partial<Pick<LegalCaseRow, 'status' | 'package' | 'closedAt' | 'declineReason'>>,
  ): Promise<void>;
  /** Records an approval; false when this staff member already approved the case. */
  approve(caseId: string, staffId: string, at: number): Promise<boolean>;
  approvals(caseId: string): Promise<string[]>;
  putDocument(caseId: string, content: Uint8Array): Promise<void>;
  /** The court document filed with the case, as received. */
  document(caseId: string): Promise<Uint8Array | undefined>;
  /** Open cases (awaiting approval or approved) that name the account. */
  openCasesNaming(accountId: string): Promise<LegalCaseRow[]>;
  putHold(hold: LegalHoldRow): Promise<void>;
  hold(caseId: string, accountId: string): Promise<LegalHoldRow | undefined>;
  holdsForAccount(accountId: string): Promise<LegalHoldRow[]>;
  releaseHolds(caseId: string): Promise<void>;
}

export interface LegalHoldRow {
  caseId: string;
  accountId: string;
  phone: string;
  ipRecords: { ip: string; firstSeen: number; lastSeen: number }[];
  createdAt: number;
}

/** `moderator`: reads user reports and proposes or approves suspensions; no legal-desk step. */
export type DeskRole = 'intake' | 'reviewer' | 'approver' | 'auditor' | 'moderator';

export interface DeskAccountRow {
  id: string;
  kind: 'staff' | 'authority';
  username: string;
  displayName: string;
  passwordHash: string;
  totpSecret: string;
  roles: DeskRole[];
  country: string | null;
  authorityKind: string | null;
  createdAt: number;
  /** When an operator disabled the account; null (or absent) while it may log in. */
  disabledAt?: number | null;
}

/** Desk accounts, their sessions, and the log of every staff action. */
export interface DeskStore {
  insertAccount(row: DeskAccountRow): Promise<void>;
  accountByUsername(username: string): Promise<DeskAccountRow | undefined>;
  accountById(id: string): Promise<DeskAccountRow | undefined>;
  insertSession(tokenHash: string, accountId: string, expiresAt: number): Promise<void>;
  session(tokenHash: string): Promise<{ accountId: string; expiresAt: number } | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  /** Ends every session of the account; returns how many. */
  deleteSessionsOf(accountId: string): Promise<number>;
  /** Deletes sessions that expired at or before `now`; returns how many. */
  deleteExpiredSessions(now: number): Promise<number>;
  /** Disables (at `at`) or enables (null) an account; false when there is no such account. */
  setDisabled(accountId: string, at: number | null): Promise<boolean>;
  /**
   * Records that a login used TOTP time step `step`, only if it is later than the last one the
   * account used: true when recorded, false for a replayed (or older) code.
   */
  useTotpStep(accountId: string, step: number): Promise<boolean>;
  /** Replaces the account's password hash. */
  setPasswordHash(accountId: string, passwordHash: string): Promise<void>;
  /** Ends every session of the account but the one whose token hashes to `keepTokenHash`; returns how many. */
  deleteOtherSessions(accountId: string, keepTokenHash: string): Promise<number>;
  /** The TOTP secret waiting for confirmation (null for none). */
  pendingTotpSecret(accountId: string): Promise<string | null>;
  /** Sets (or, with null, drops) the TOTP secret waiting for confirmation. */
  setPendingTotpSecret(accountId: string, secret: string | null): Promise<void>;
  /**
   * Makes the pending secret the account's TOTP secret, only if it is still `secret`: true when
   * replaced (of two confirmations racing, one wins).
   */
  confirmPendingTotpSecret(accountId: string, secret: string): Promise<boolean>;
  /** Records one failed login under each key (hashed username, hashed client address). */
  recordLoginFailure(keys: readonly string[], at: number): Promise<void>;
  /** Failed logins under the key after `since`. */
  loginFailures(key: string, since: number): Promise<number>;
  /** Forgets the key's failures (a successful login under that username). */
  clearLoginFailures(key: string): Promise<void>;
  /** Deletes failures at or before `before`; returns how many. */
  deleteLoginFailuresBefore(before: number): Promise<number>;
  audit(entry: DeskAuditEntry): Promise<void>;
  auditLog(limit: number): Promise<DeskAuditEntry[]>;
}

export interface DeskAuditEntry {
  at: number;
  /** The account acting; '' for a failed login under a username that names no account. */
  accountId: string;
  action: string;
  caseId: string | null;
  /** The client address, on login attempts. */
  ip?: string | null;
}

export type ExportJobState = 'queued' | 'running' | 'done' | 'failed' | 'expired';

export interface ExportJobRow {
  id: string;
  accountId: string;
  state: ExportJobState;
  progress: number;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  file: string | null;
  bytes: number | null;
  expiresAt: number | null;
  error: string | null;
}

/** Data-export jobs (rows only; the archive files are the service's business). */
export interface ExportJobStore {
  insert(row: ExportJobRow): Promise<void>;
  byId(id: string): Promise<ExportJobRow | undefined>;
  /** The account's jobs, newest first. */
  byAccount(accountId: string): Promise<ExportJobRow[]>;
  /**
   * Changes a job only if it is still in state `from` (and, when given, was last updated at
   * `updatedAt`): one node wins a claim; returns whether it changed.
   */
  transition(
    id: string,
    from: { state: ExportJobState; updatedAt?: number },
    change: Partial<Omit<ExportJobRow, 'id' | 'accountId' | 'createdAt'>>,
  ): Promise<boolean>;
  /** Queued jobs, and running jobs not updated since `staleBefore` (their node stopped), oldest first. */
  runnable(staleBefore: number): Promise<ExportJobRow[]>;
  /** Done jobs whose archive expires at or before `now`. */
  expiring(now: number): Promise<ExportJobRow[]>;
  /** Deletes expired and failed jobs finished before `before`; returns how many. */
  deleteFinishedBefore(before: number): Promise<number>;
  deleteByAccount(accountId: string): Promise<number>;
}

export type ReportState = 'open' | 'handled';

/** One forwarded message of a report, as the reporter's device held it. */
export interface ReportItem {
  senderAccountId: string;
  sentAtMs: number;
  text: string;
}

/** A report: the one record with plaintext, forwarded by its reporter's consent (issue 12). */
export interface ReportRow {
  id: string;
  reporterAccountId: string | null;
  reportedAccountId: string | null;
  chatId: string | null;
  reason: string;
  comment: string | null;
  messages: ReportItem[];
  createdAt: number;
  state: ReportState;
  handledBy: string | null;
  handledAt: number | null;
}

export interface ReportFilter {
  state?: ReportState;
  reportedAccountId?: string;
  reason?: string;
  /** At most this many, newest first. */
  limit: number;
}

export interface ReportStore {
  insert(row: ReportRow): Promise<void>;
  byId(id: string): Promise<ReportRow | undefined>;
  /** Newest first. */
  list(filter: ReportFilter): Promise<ReportRow[]>;
  /** The reports an account filed, newest first (its data export). */
  byReporter(accountId: string): Promise<ReportRow[]>;
  /** Marks an open report handled; false when there is no such open report. */
  markHandled(id: string, staffId: string, at: number): Promise<boolean>;
  /** Deletes reports received before `before`; returns how many. */
  deleteOlderThan(before: number): Promise<number>;
}

export type SuspensionRowState = 'proposed' | 'suspended' | 'lift_proposed';

export interface SuspensionRow {
  accountId: string;
  state: SuspensionRowState;
  reportId: string | null;
  proposedBy: string;
  proposedAt: number;
  suspendedAt: number | null;
  version: number;
}

/** Accounts' suspensions (no row: active) and the session tokens a suspension ended. */
export interface SuspensionStore {
  byAccount(accountId: string): Promise<SuspensionRow | undefined>;
  list(): Promise<SuspensionRow[]>;
  /**
   * Writes the row if the stored one has version `expectedVersion` (undefined: no row), in one
   * conditional write; false when another write came first.
   */
  put(row: SuspensionRow, expectedVersion: number | undefined): Promise<boolean>;
  /** Deletes the row if it has version `expectedVersion`; false when another write came first. */
  delete(accountId: string, expectedVersion: number): Promise<boolean>;
  rememberSessions(accountId: string, tokenHashes: readonly string[]): Promise<void>;
  /** The account whose suspension ended this session token, if any. */
  suspendedSession(tokenHash: string): Promise<string | undefined>;
  forgetSessions(accountId: string): Promise<void>;
}

export interface MediaBlobRow {
  id: string;
  groupId: string;
  uploaderAccountId: string;
  size: number;
  createdAt: number;
  completedAt: number | null;
}

/** Media blob records (the bytes live in the blob store, media/ports.ts). */
export interface MediaBlobRecordStore {
  insert(row: MediaBlobRow): Promise<void>;
  byId(id: string): Promise<MediaBlobRow | undefined>;
  markComplete(id: string, at: number): Promise<void>;
  /** Bytes of all blobs of an account, finished or not (its quota). */
  bytesOfAccount(accountId: string): Promise<number>;
  byAccount(accountId: string): Promise<MediaBlobRow[]>;
  countInGroup(groupId: string): Promise<number>;
  /** Uploads created before `before` that never finished. */
  incompleteBefore(before: number): Promise<string[]>;
  /**
   * Finished blobs uploaded (and last granted) before `before` such that no chat they are bound to
   * holds an entry at or after their binding time (the upload for its own chat, the grant for a
   * further one): no retained message can point at them any more. A blob bound to a channel
   * (`channel_media`) is never among them: its post decides.
   */
  unreferencedBefore(before: number): Promise<string[]>;
  /** Deletes the records and every grant of these blobs. */
  delete(ids: readonly string[]): Promise<void>;
  /** Binds a blob to a further chat (a forward); false when it was bound there already. */
  grant(row: MediaGrantRow): Promise<boolean>;
  /** The further chats a blob is bound to, oldest grant first (its upload chat is on its record). */
  grantsOf(blobId: string): Promise<MediaGrantRow[]>;
  /** The grants an account made (its data export). */
  grantsBy(accountId: string): Promise<MediaGrantRow[]>;
  /** Removes the grants an account made (its erasure); returns how many. */
  deleteGrantsBy(accountId: string): Promise<number>;
}

/** A blob bound to a further chat by a member of both (media_blob_chats). */
export interface MediaGrantRow {
  blobId: string;
  groupId: string;
  grantedByAccountId: string;
  grantedAt: number;
}

/** A media blob bound to a channel (issue 16), and the post carrying it (null until one does). */
export interface ChannelMediaRow {
  blobId: string;
  channelId: string;
  postId: string | null;
  boundAt: number;
}

/** Which channel (and which post of it) each channel media blob belongs to. */
export interface ChannelMediaStore {
  bind(row: ChannelMediaRow): Promise<void>;
  byBlob(blobId: string): Promise<ChannelMediaRow | undefined>;
  /**
   * Marks the blob as carried by the post: true when the blob is bound to this channel and free or
   * already this post's; false otherwise (another channel's, another post's, or not bound).
   */
  claim(channelId: string, blobId: string, postId: string): Promise<boolean>;
  /** The blobs a post carries. */
  byPost(channelId: string, postId: string): Promise<string[]>;
  /** Every blob bound to a channel. */
  byChannel(channelId: string): Promise<string[]>;
  /** Blobs bound before `before` that no post carries (uploaded, never posted). */
  unclaimedBefore(before: number): Promise<string[]>;
  /** Forgets the bindings of these blobs (their bytes and records go through the media service). */
  release(blobIds: readonly string[]): Promise<void>;
}

export interface StickerPackRow {
  id: string;
  shortName: string;
  title: string;
  ownerAccountId: string;
  createdAt: number;
}

export interface StickerRow {
  packId: string;
  index: number;
  emoji: string;
  hash: string;
  mime: string;
  width: number;
  height: number;
  frames: number;
  bytes: number;
  createdAt: number;
}

/** Sticker packs and their stickers (issue 16); the images live in the sticker blob store. */
export interface StickerStore {
  /** False when the short name is taken. */
  createPack(row: StickerPackRow): Promise<boolean>;
  packByShortName(shortName: string): Promise<StickerPackRow | undefined>;
  packsOf(ownerAccountId: string): Promise<StickerPackRow[]>;
  countPacksOf(ownerAccountId: string): Promise<number>;
  stickersOf(packId: string): Promise<StickerRow[]>;
  /** Takes the pack's next sticker index (indexes are never reused); undefined when no such pack. */
  takeIndex(packId: string): Promise<number | undefined>;
  countStickers(packId: string): Promise<number>;
  insertSticker(row: StickerRow): Promise<void>;
  /** Deletes one sticker; false when there is none. */
  deleteSticker(packId: string, index: number): Promise<boolean>;
  /** Deletes a pack and its stickers. */
  deletePack(packId: string): Promise<void>;
  /** Any sticker (of any pack) with this image, for serving it. */
  byHash(hash: string): Promise<StickerRow | undefined>;
}

export type ChannelVisibilityRow = 'public' | 'private';

export interface ChannelRow {
  id: string;
  name: string;
  title: string;
  /** '' when the channel has none. */
  description: string;
  visibility: ChannelVisibilityRow;
  ownerAccountId: string;
  publicKey: Uint8Array;
  createdAt: number;
  lastSeq: number;
  subscriberCount: number;
}

/** Channels and their admins (issue 16). */
export interface ChannelStore {
  /** Returns false when the name is taken. */
  insert(row: ChannelRow): Promise<boolean>;
  byId(id: string): Promise<ChannelRow | undefined>;
  byName(name: string): Promise<ChannelRow | undefined>;
  byIds(ids: readonly string[]): Promise<ChannelRow[]>;
  ownedBy(accountId: string): Promise<ChannelRow[]>;
  /**
   * Reserves the channel's next sequence number and returns it; the row stays locked until the
   * transaction ends, so posts commit in sequence order.
   */
  nextSeq(id: string): Promise<number>;
  adjustSubscriberCount(id: string, delta: number): Promise<void>;
  /** Sets the channel's title and description; false when there is no such channel. */
  setInfo(id: string, info: { title: string; description: string }): Promise<boolean>;
  addAdmin(channelId: string, accountId: string, at: number): Promise<void>;
  removeAdmin(channelId: string, accountId: string): Promise<boolean>;
  isAdmin(channelId: string, accountId: string): Promise<boolean>;
  admins(channelId: string): Promise<{ accountId: string; addedAt: number }[]>;
  /** Channels where the account is an admin (not owner), for its export and erasure. */
  adminOf(accountId: string): Promise<string[]>;
  /** Deletes the channel and its admins (its posts, subscriptions and invites are the other stores'). */
  delete(id: string): Promise<void>;
  deleteAdminsByAccount(accountId: string): Promise<number>;
}

export interface ChannelPostRow {
  channelId: string;
  /** Where the newest revision sits (an edit or deletion moves the post to the channel's next number). */
  seq: number;
  /** Where it was first posted. */
  firstSeq: number;
  postId: string;
  revision: number;
  deleted: boolean;
  payload: Uint8Array;
  signature: Uint8Array;
  authorAccountId: string | null;
  createdAt: number;
  editedAt: number | null;
  views: number;
}

/** A channel's posts, stored once each (the newest revision). */
export interface ChannelPostStore {
  insert(row: ChannelPostRow): Promise<void>;
  byPostId(channelId: string, postId: string): Promise<ChannelPostRow | undefined>;
  /**
   * Replaces a post's revision, at its new sequence number, if the stored revision is older: false
   * when it is not (a stale edit).
   */
  revise(
    channelId: string,
    postId: string,
    change: Pick<ChannelPostRow, 'seq' | 'revision' | 'deleted' | 'payload' | 'signature' | 'editedAt'>,
  ): Promise<boolean>;
  /** As EntryStore.range: up to `limit` posts after `afterSeq`, within `maxBytes` of payload (the first always). */
  range(channelId: string, afterSeq: number, limit: number, maxBytes?: number): Promise<ChannelPostRow[]>;
  /** Adds `views` (default one) to each post first posted at afterSeq < firstSeq <= upToSeq. */
  countViews(channelId: string, afterSeq: number, upToSeq: number, views?: number): Promise<void>;
  /** Posts written by the account (its export). */
  byAuthor(accountId: string): Promise<ChannelPostRow[]>;
  deleteByChannel(channelId: string): Promise<number>;
  /** Forgets the account as author (the posts stay: they belong to the channel). */
  forgetAuthor(accountId: string): Promise<number>;
}

export interface ChannelSubscriptionRow {
  accountId: string;
  channelId: string;
  cursor: number;
  subscribedAt: number;
}

/** Who subscribes to which channel, and the cursor of each subscription. */
export interface ChannelSubscriptionStore {
  /** Adds the subscription; false when it already existed (then it is left as it was). */
  insert(row: ChannelSubscriptionRow): Promise<boolean>;
  get(accountId: string, channelId: string): Promise<ChannelSubscriptionRow | undefined>;
  byAccount(accountId: string): Promise<ChannelSubscriptionRow[]>;
  /**
   * Moves the cursor from `from` to `to` if it is still at `from` (one conditional write): true for
   * exactly one of any number of racing callers.
   */
  advance(accountId: string, channelId: string, from: number, to: number): Promise<boolean>;
  /** The cursors of these accounts' subscriptions to the channel (accounts not subscribed are absent). */
  cursorsOf(channelId: string, accountIds: readonly string[]): Promise<Map<string, number>>;
  /**
   * `advance` for many accounts at once: moves the cursor of each of `accountIds` that is still at
   * `from` to `to`, and returns those moved.
   */
  advanceMany(channelId: string, accountIds: readonly string[], from: number, to: number): Promise<string[]>;
  delete(accountId: string, channelId: string): Promise<boolean>;
  deleteByChannel(channelId: string): Promise<number>;
  deleteByAccount(accountId: string): Promise<ChannelSubscriptionRow[]>;
}

export interface ChannelInviteRow {
  id: string;
  channelId: string;
  tokenHash: string;
  createdBy: string | null;
  createdAt: number;
  revokedAt: number | null;
}

export interface ChannelInviteStore {
  insert(row: ChannelInviteRow): Promise<void>;
  byTokenHash(tokenHash: string): Promise<ChannelInviteRow | undefined>;
  byChannel(channelId: string): Promise<ChannelInviteRow[]>;
  /** Revokes a live invite of the channel; false when there is none. */
  revoke(channelId: string, id: string, at: number): Promise<boolean>;
  deleteByChannel(channelId: string): Promise<number>;
  forgetCreator(accountId: string): Promise<number>;
}

export interface Stores {
  accounts: AccountStore;
  devices: DeviceStore;
  sessions: SessionStore;
  authCodes: AuthCodeStore;
  rateLimits: RateLimitStore;
  connections: ConnectionStore;
  groups: GroupStore;
  blocks: BlockStore;
  invitations: InvitationStore;
  entries: EntryStore;
  cursors: CursorStore;
  mailbox: MailboxStore;
  policyAcceptances: PolicyAcceptanceStore;
  transparencyLog: TransparencyLogStore;
  legalCases: LegalCaseStore;
  desk: DeskStore;
  keyPackages: KeyPackageStore;
  mlsGroups: MlsGroupStore;
  exportJobs: ExportJobStore;
  reports: ReportStore;
  suspensions: SuspensionStore;
  mediaBlobs: MediaBlobRecordStore;
  stickers: StickerStore;
  channels: ChannelStore;
  channelPosts: ChannelPostStore;
  channelSubscriptions: ChannelSubscriptionStore;
  channelInvites: ChannelInviteStore;
  channelMedia: ChannelMediaStore;
}

/** A storage backend: stores outside a transaction, and a way to run work in one. */
export interface Storage extends Stores {
  readonly dialect: string;
  transaction<T>(work: (stores: Stores) => Promise<T>): Promise<T>;
  /**
   * Appends messages to group logs in one atomic step, committed when it resolves, with one outcome
   * per append in order (no two appends with the same sender, client message id and group). It means
   * what the delivery service does in a transaction (lock the groups, duplicate and membership checks,
   * sequence numbers, insert); an adapter offers it when one step is cheaper there (PostgreSQL: one
   * statement, one round trip, instead of seven). Absent, the delivery service uses `transaction`.
   */
  appendGroupMessages?(appends: readonly GroupMessageAppend[], now: number): Promise<GroupAppendOutcome[]>;
  /** Answers whether the backend is reachable (for /readyz). */
  ping(): Promise<void>;
  /**
   * Answers whether the backend takes writes (for /readyz): a write statement that changes no row,
   * which a read-only, locked or failed database still refuses.
   */
  probeWrite(): Promise<void>;
  close(): Promise<void>;
}
