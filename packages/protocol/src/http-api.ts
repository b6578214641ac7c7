/**
 * The HTTP API contract (JSON bodies). The server validates requests with JSON schemas built from
 * these shapes; the SDK uses the same types. All routes are under `/v1`; authenticated routes take
 * `Authorization: Bearer <token>`. Failures use the `ErrorEnvelope` of `errors.ts`.
 */
export type AuthIntent = 'register' | 'login';
export type GroupKind = 'direct' | 'group';
export type GroupRole = 'owner' | 'admin' | 'member';

/**
 * POST /v1/auth/code: texts a code to the number. The reply is the same whether or not the number
 * has an account; verifying the code settles it (a new number gets an account, an existing one a
 * new device).
 */
export interface RequestCodeBody {
  phone: string;
  /** Ignored: kept so that bodies of older clients still validate. */
  intent?: AuthIntent;
}
export interface RequestCodeReply {
  phone: string;
  /** Names this code; verifying it needs both. Only the requester learns it. */
  verificationId: string;
  expiresAtMs: number;
  codeLength: number;
}

/** POST /v1/auth/verify */
export interface VerifyCodeBody {
  phone: string;
  /** From the reply to the code request. */
  verificationId: string;
  code: string;
  /** Ignored: kept so that bodies of older clients still validate. */
  intent?: AuthIntent;
  deviceName: string;
  /** The privacy-policy version the person accepts; required when they have not accepted the current one. */
  acceptPolicyVersion?: string;
}
export interface VerifyCodeReply {
  accountId: string;
  deviceId: string;
  token: string;
  /** True when this verification created the account (the number had none). */
  created: boolean;
  policyVersion: string;
}

/** GET /v1/privacy-policy (the page itself is served at /privacy) */
export interface PrivacyPolicyView {
  version: string;
  effectiveFromMs: number;
  sha256: string;
  markdown: string;
}

export type Audience = 'everybody' | 'contacts' | 'nobody';

/**
 * GET/PUT /v1/me/privacy. "Contacts" are the people you share a direct chat with that both of you
 * accepted (the opener by opening it, the other person by accepting the message request), and
 * neither of you blocked.
 */
export interface PrivacySettingsView {
  phoneVisibility: Audience;
  phoneDiscovery: Audience;
  lastSeenVisibility: Audience;
  selfDestructMonths: 1 | 3 | 6 | 12;
  /** Who may put me in a group directly; anyone else's add is an invitation I accept or decline. */
  groupAdd: Audience;
}

/** DELETE /v1/me */
export interface DeleteAccountBody {
  /** The account's own phone number, typed again to confirm. */
  confirmPhone: string;
}
export interface DeleteAccountReply {
  deleted: true;
  /** True when a legal obligation keeps some records (phone number, IP records) for a while. */
  legalHold: boolean;
}

export type ExportJobState = 'queued' | 'running' | 'done' | 'failed' | 'expired';

/** POST /v1/me/exports (starts one, or returns the one under way), GET /v1/me/exports[/:id] */
export interface ExportJobView {
  jobId: string;
  state: ExportJobState;
  /** 0 to 100 */
  progress: number;
  createdAtMs: number;
  finishedAtMs: number | null;
  /** When the archive is deleted (done jobs). */
  expiresAtMs: number | null;
  /** Size of the archive in bytes (done jobs). */
  bytes: number | null;
  /** The catalog code of the failure (failed jobs). */
  error: string | null;
}

export interface AccountView {
  accountId: string;
  phone: string;
  username: string | null;
  displayName: string;
  createdAtMs: number;
  policy: { current: string; accepted: boolean };
}

/**
 * A user as another user sees them (GET /v1/users/lookup). The phone number and the last-seen
 * day are present only when that user's privacy settings let this viewer see them.
 */
export interface UserView {
  accountId: string;
  username: string | null;
  displayName: string;
  phone?: string;
  lastSeenDayMs?: number;
}

export interface DeviceView {
  deviceId: string;
  name: string;
  createdAtMs: number;
  lastSeenAtMs: number | null;
  current: boolean;
}

export interface MemberView {
  accountId: string;
  role: GroupRole;
  joinedAtMs: number;
}

export interface GroupView {
  groupId: string;
  kind: GroupKind;
  title: string;
  createdAtMs: number;
  lastSeq: number;
  memberCount: number;
  myRole: GroupRole;
  /**
   * Present (true) on a direct chat someone else opened that I have not accepted yet: a message
   * request. Its messages arrive (end-to-end encrypted) but the opener is not my contact until I
   * accept (POST /v1/requests/:groupId/accept).
   */
  request?: true;
}

export interface GroupDetailView extends GroupView {
  members: MemberView[];
}

/** PUT /v1/me/username */
export interface SetUsernameBody {
  username: string | null;
}
/** PUT /v1/me/profile */
export interface SetProfileBody {
  displayName: string;
}
/** POST /v1/groups */
export interface CreateGroupBody {
  title: string;
  memberIds: string[];
}
/** POST /v1/direct */
export interface OpenDirectBody {
  accountId: string;
}
/** POST /v1/groups/:groupId/members */
export interface AddMembersBody {
  accountIds: string[];
}
/** PUT /v1/groups/:groupId/members/:accountId/role */
export interface SetRoleBody {
  role: 'admin' | 'member';
}

/**
 * GET /v1/requests: what waits for my consent. A direct chat a stranger opened (`direct`), or a
 * group someone whose adds my `groupAdd` setting does not allow wants me in (`invitation`; I am not
 * on its roster nor in its encryption group until I accept).
 */
export type RequestView =
  | { type: 'direct'; groupId: string; fromAccountId: string; createdAtMs: number }
  | {
      type: 'invitation';
      groupId: string;
      title: string;
      fromAccountId: string;
      memberCount: number;
      createdAtMs: number;
    };
export interface RequestsReply {
  requests: RequestView[];
}
/** POST /v1/requests/:groupId/accept: the chat as I now see it. POST …/decline answers 204. */
export type AcceptRequestReply = GroupDetailView;

/** GET /v1/blocks (the people I blocked); PUT and DELETE /v1/blocks/:accountId answer 204. */
export interface BlockView {
  accountId: string;
  createdAtMs: number;
}
export interface BlocksReply {
  blocks: BlockView[];
}

export interface HealthReply {
  status: 'ok';
}
