/**
 * The database as Kysely sees it. Every column is listed in DESIGN.md §2's inventory; times are
 * milliseconds since the epoch (bigint columns, read back as numbers).
 */

export interface AccountsTable {
  id: string;
  phone: string;
  username: string | null;
  /** Lower-cased username, unique: usernames are unique case-insensitively. */
  username_key: string | null;
  display_name: string;
  created_at: number;
  /** Coarse last-seen time: the start of the UTC day. */
  last_seen_day: number | null;
  /** Who sees my phone number: everybody, contacts, nobody. */
  phone_visibility: string;
  /** Who finds me by my phone number: everybody, contacts, nobody. */
  phone_discovery: string;
  /** Who sees when I was last seen: everybody, contacts, nobody. */
  last_seen_visibility: string;
  /** Delete my account after this many months without any activity (1, 3, 6 or 12). */
  self_destruct_months: number;
  /** Who may add me to groups directly (everybody, contacts, nobody); others' adds are invitations. */
  group_add: string;
}

export interface PolicyAcceptancesTable {
  account_id: string;
  version: string;
  accepted_at: number;
}

export interface DevicesTable {
  id: string;
  account_id: string;
  name: string;
  created_at: number;
  last_seen_at: number | null;
  /** Highest mailbox sequence number allocated for this device. */
  mailbox_seq: number;
}

export interface SessionsTable {
  token_hash: string;
  device_id: string;
  account_id: string;
  created_at: number;
  last_used_at: number;
}

export interface AuthCodesTable {
  id: string;
  phone: string;
  code_hash: string;
  expires_at: number;
  attempts: number;
  consumed_at: number | null;
  created_at: number;
}

export interface RateLimitsTable {
  key: string;
  window_start: number;
  count: number;
}

export interface ConnectionsTable {
  device_id: string;
  ip: string;
  account_id: string;
  first_seen: number;
  last_seen: number;
}

export interface GroupsTable {
  id: string;
  kind: string;
  title: string;
  created_by: string;
  created_at: number;
  last_seq: number;
  member_count: number;
  /** For direct chats: the two account ids, sorted and joined, so each pair has one chat. */
  direct_key: string | null;
}

export interface GroupMembersTable {
  group_id: string;
  account_id: string;
  role: string;
  joined_at: number;
  joined_seq: number;
  /** accepted, pending (a message request) or declined (declined or blocked). */
  consent: string;
}

/** One person blocking another (silent to the blocked person). */
export interface BlocksTable {
  blocker_id: string;
  blocked_id: string;
  created_at: number;
}

/** A group invitation the invitee has not accepted or declined yet. */
export interface GroupInvitationsTable {
  group_id: string;
  account_id: string;
  inviter_id: string;
  created_at: number;
}

export interface GroupEntriesTable {
  group_id: string;
  seq: number;
  kind: string;
  sender_account_id: string;
  sender_device_id: string;
  client_msg_id: string;
  payload: Uint8Array;
  created_at: number;
}

export interface DeviceCursorsTable {
  device_id: string;
  group_id: string;
  acked_seq: number;
}

export interface MailboxTable {
  device_id: string;
  seq: number;
  sender_account_id: string;
  sender_device_id: string;
  client_msg_id: string;
  payload: Uint8Array;
  created_at: number;
  /** 'device' (bytes another device sent) or 'welcome' (an MLS Welcome from the delivery service) */
  kind: string;
}

export interface LogLeavesTable {
  idx: number;
  /** The public leaf: canonical JSON without personal data. */
  leaf: string;
  leaf_hash: Uint8Array;
  created_at: number;
}

export interface LogCheckpointsTable {
  size: number;
  root_hash: Uint8Array;
  /** The signed note (C2SP checkpoint). */
  note: string;
  created_at: number;
}

export interface LegalCasesTable {
  id: string;
  received_at: number;
  status: string;
  /** The request as received (legal-desk data, DESIGN §2). */
  request: string;
  decision: string;
  document_sha256: string;
  /** Salt of the case's public commitment in the log. */
  commitment_salt: string;
  submitted_by: string;
  /** The signed disclosure package, once produced. */
  package: string | null;
  closed_at: number | null;
  /** The authority's desk account, when it submitted the request itself. */
  authority_id: string | null;
  /** Why staff declined the case, as they wrote it (never published). */
  decline_reason: string | null;
}

export interface DeskAccountsTable {
  id: string;
  /** staff or authority */
  kind: string;
  username: string;
  display_name: string;
  password_hash: string;
  totp_secret: string;
  /** Comma-separated staff roles: intake, reviewer, approver, auditor. */
  roles: string;
  country: string | null;
  authority_kind: string | null;
  created_at: number;
  /** When an operator disabled the account (it cannot log in); null while it is enabled. */
  disabled_at: number | null;
  /** The last TOTP time step a login used: a code is accepted once (ASVS 6.5.1). */
  totp_last_step: number | null;
  /** A new TOTP secret its owner has asked for, until a code from it confirms it (then it replaces totp_secret). */
  pending_totp_secret: string | null;
}

export interface DeskSessionsTable {
  token_hash: string;
  account_id: string;
  expires_at: number;
}

export interface DeskAuditTable {
  at: number;
  /** The account acting, or '' for a failed login under a username that has none. */
  account_id: string;
  action: string;
  case_id: string | null;
  /** The client address, on login attempts. */
  ip: string | null;
}

/** One failed desk login, under the SHA-256 of `user:<name>` or `ip:<address>` (throttling). */
export interface DeskLoginFailuresTable {
  key: string;
  at: number;
}

export interface LegalDocumentsTable {
  case_id: string;
  content: Uint8Array;
}

export interface LegalApprovalsTable {
  case_id: string;
  staff_id: string;
  approved_at: number;
}

export interface LegalHoldsTable {
  case_id: string;
  account_id: string;
  phone: string;
  /** JSON: the connection records the case covers. */
  ip_records: string;
  created_at: number;
}

export interface Database {
  accounts: AccountsTable;
  devices: DevicesTable;
  sessions: SessionsTable;
  auth_codes: AuthCodesTable;
  rate_limits: RateLimitsTable;
  connections: ConnectionsTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  blocks: BlocksTable;
  group_invitations: GroupInvitationsTable;
  group_entries: GroupEntriesTable;
  device_cursors: DeviceCursorsTable;
  mailbox: MailboxTable;
  policy_acceptances: PolicyAcceptancesTable;
  log_leaves: LogLeavesTable;
  log_checkpoints: LogCheckpointsTable;
  legal_cases: LegalCasesTable;
  legal_approvals: LegalApprovalsTable;
  desk_accounts: DeskAccountsTable;
  desk_sessions: DeskSessionsTable;
  desk_audit: DeskAuditTable;
  desk_login_failures: DeskLoginFailuresTable;
  legal_documents: LegalDocumentsTable;
  legal_holds: LegalHoldsTable;
  device_credentials: DeviceCredentialsTable;
  key_packages: KeyPackagesTable;
  mls_groups: MlsGroupsTable;
  mls_leaves: MlsLeavesTable;
  mls_trees: MlsTreesTable;
  export_jobs: ExportJobsTable;
  reports: ReportsTable;
  account_suspensions: AccountSuspensionsTable;
  suspended_sessions: SuspendedSessionsTable;
  media_blobs: MediaBlobsTable;
  media_blob_chats: MediaBlobChatsTable;
  sticker_packs: StickerPacksTable;
  stickers: StickersTable;
  channels: ChannelsTable;
  channel_admins: ChannelAdminsTable;
  channel_posts: ChannelPostsTable;
  channel_subscriptions: ChannelSubscriptionsTable;
  channel_invites: ChannelInvitesTable;
  channel_media: ChannelMediaTable;
}

/**
 * A media blob uploaded to a channel (issue 16), and the post that carries it once there is one:
 * who may fetch it and how long it lives follow the channel and the post.
 */
export interface ChannelMediaTable {
  blob_id: string;
  channel_id: string;
  post_id: string | null;
  bound_at: number;
}

/** A device's MLS signature public key and the server's certificate for it (DESIGN §2). */
export interface DeviceCredentialsTable {
  device_id: string;
  account_id: string;
  signature_key: Uint8Array;
  /** The certificate as JSON (DeviceCertificate). */
  certificate: string;
  created_at: number;
}

/** Published key packages: public keys a device hands out so it can be added to groups. */
export interface KeyPackagesTable {
  device_id: string;
  /** KeyPackageRef, hex */
  ref: string;
  /** MLSMessage bytes */
  package: Uint8Array;
  /** 1 for the device's last-resort key package (handed out when no one-time one is left) */
  last_resort: number;
  created_at: number;
}

/** Each group's current MLS epoch, advanced by every commit the delivery service accepts. */
export interface MlsGroupsTable {
  group_id: string;
  epoch: number;
}

/** Which device sits at which leaf of a group's MLS tree, as the accepted commits placed them. */
export interface MlsLeavesTable {
  group_id: string;
  leaf_index: number;
  account_id: string;
  device_id: string;
}

/** Public ratchet trees of the epochs Welcomes were issued for (served to joiners). */
export interface MlsTreesTable {
  group_id: string;
  epoch: number;
  tree: Uint8Array;
  created_at: number;
}

/** Data-export jobs of accounts (the archive itself is a file under the data folder). */
export interface ExportJobsTable {
  id: string;
  account_id: string;
  /** queued, running, done, failed or expired */
  state: string;
  progress: number;
  created_at: number;
  /** Last progress write: a running job whose node stopped writing is taken over. */
  updated_at: number;
  finished_at: number | null;
  /** The archive's file name in the export folder, while it exists. */
  file: string | null;
  bytes: number | null;
  expires_at: number | null;
  error: string | null;
}

/**
 * Reports (issue 12): the messages a reporter chose to forward, decrypted on their device and sent
 * with their consent: the one plaintext the server holds. Deleted after `retention.reportMonths`.
 */
export interface ReportsTable {
  id: string;
  /** Null once the reporter's account is erased. */
  reporter_account_id: string | null;
  /** Null when the report names no one, or once that account is erased. */
  reported_account_id: string | null;
  chat_id: string | null;
  /** spam, abuse, illegal or other */
  reason: string;
  comment: string | null;
  /** JSON: the forwarded messages, [{ senderAccountId, sentAtMs, text }] */
  messages: string;
  created_at: number;
  /** open or handled */
  state: string;
  /** The desk staff member who marked it handled. */
  handled_by: string | null;
  handled_at: number | null;
}

/** An account's suspension: proposed by one staff member, in force once a different one approves. */
export interface AccountSuspensionsTable {
  account_id: string;
  /** proposed, suspended or lift_proposed */
  state: string;
  /** The report the proposal cites, if any. */
  report_id: string | null;
  /** The staff member whose proposal is open (or, once suspended, who approved the suspension). */
  proposed_by: string;
  proposed_at: number;
  suspended_at: number | null;
  /** Bumped by every transition: of two staff racing, one wins. */
  version: number;
}

/** Session tokens (hashed) a suspension ended: a device presenting one hears ACCOUNT_SUSPENDED. */
export interface SuspendedSessionsTable {
  token_hash: string;
  account_id: string;
}

/** Uploaded media ciphertext (the bytes are in the blob store; the key never reaches the server). */
export interface MediaBlobsTable {
  id: string;
  /** The chat the blob was uploaded to: only its current members may fetch it. */
  group_id: string;
  uploader_account_id: string;
  /** Bytes of ciphertext, as declared when the upload was created. */
  size: number;
  created_at: number;
  /** When the last byte arrived; null while the upload is incomplete. */
  completed_at: number | null;
}

/** A further chat a blob is bound to (a forward): its members may fetch the blob too. */
export interface MediaBlobChatsTable {
  blob_id: string;
  group_id: string;
  /** The member of both chats who bound it. */
  granted_by_account_id: string;
  granted_at: number;
}

/** A public sticker pack (issue 16). */
export interface StickerPacksTable {
  id: string;
  short_name: string;
  title: string;
  owner_account_id: string;
  created_at: number;
  /** The index the next sticker added gets: indexes are never reused. */
  next_index: number;
}

/** One sticker of a pack; its image is in the sticker blob store under its content hash. */
export interface StickersTable {
  pack_id: string;
  idx: number;
  emoji: string;
  content_hash: string;
  mime: string;
  width: number;
  height: number;
  frames: number;
  bytes: number;
  created_at: number;
}

/** A broadcast channel (issue 16): public by name or private by invite; its posts are public content. */
export interface ChannelsTable {
  id: string;
  /** The @name, unique, lower case. */
  name: string;
  title: string;
  /** What the channel says of itself ('' when none). */
  description: string;
  /** public or private */
  visibility: string;
  owner_account_id: string;
  /** Ed25519 public key (32 bytes): every post is signed by it. */
  public_key: Uint8Array;
  created_at: number;
  last_seq: number;
  subscriber_count: number;
}

/** Accounts other than the owner that may post in a channel. */
export interface ChannelAdminsTable {
  channel_id: string;
  account_id: string;
  added_at: number;
}

/** A channel's posts, stored once: each row is a post's newest revision. */
export interface ChannelPostsTable {
  channel_id: string;
  /** Where the newest revision sits: an edit or deletion moves the post to the next number. */
  seq: number;
  /** Where the post was first posted (views are counted on it). */
  first_seq: number;
  /** Chosen by the posting client; part of what the signature covers. */
  post_id: string;
  revision: number;
  /** 1 once deleted (the payload is then empty: the signed deletion). */
  deleted: number;
  payload: Uint8Array;
  signature: Uint8Array;
  /** The admin who posted; null once that account is erased. */
  author_account_id: string | null;
  created_at: number;
  edited_at: number | null;
  /** Subscriptions whose cursor passed this post; who read it is not recorded. */
  views: number;
}

/** An account's subscription to a channel and how far it has read. */
export interface ChannelSubscriptionsTable {
  account_id: string;
  channel_id: string;
  cursor: number;
  subscribed_at: number;
}

/** Invite links of a channel (private ones are joined only this way); the token is kept hashed. */
export interface ChannelInvitesTable {
  id: string;
  channel_id: string;
  /** SHA-256 of the token, hex. */
  token_hash: string;
  /** The admin who made it; null once that account is erased. */
  created_by: string | null;
  created_at: number;
  revoked_at: number | null;
}
