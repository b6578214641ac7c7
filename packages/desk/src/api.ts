/**
 * The desk's HTTP client: /desk/v1 with the session token (password + TOTP login), and the public
 * log under /v1/transparency. Errors arrive as the catalog's `{ error: { code, message, details } }`
 * and are thrown as DeskError with the code first, so that a screen shows what went wrong.
 */

export type DeskRole = 'intake' | 'reviewer' | 'approver' | 'auditor' | 'moderator';

export interface Session {
  token: string;
  expiresAt: number;
  kind: 'staff' | 'authority';
  roles: DeskRole[];
  username: string;
}

export interface Profile {
  username: string;
  displayName: string;
  kind: 'staff' | 'authority';
  roles: DeskRole[];
  country: string | null;
  authorityKind: string | null;
}

export type CaseStatus =
  | 'not_considered'
  | 'rejected'
  | 'awaiting_approval'
  | 'approved'
  | 'declined'
  | 'produced';

export type Target = { userId: string } | { phone: string } | { username: string };

export interface TargetFinding {
  target: Record<string, string>;
  status: string;
  accountId?: string;
}

export interface CaseSummary {
  caseId: string;
  receivedAt: number;
  status: CaseStatus;
  country: string;
  nonDisclosureUntil: string | null;
  outcome?: string;
  reasons?: string[];
  disclosable?: string[];
  targets?: TargetFinding[];
  declineReason?: string | null;
}

export interface LegalRequestView {
  authority: { name: string; kind: string; country: string };
  instrument: { type: string; issuingCourt?: string; reference: string; issueDate: string };
  offence: { category: string; confirmsSuspect: boolean };
  targets?: Target[];
  timeRange: { from: string; to: string };
  requestedCategories: string[];
  nonDisclosure?: { until: string } | null;
}

export type CaseAction = 'approve' | 'decline' | 'produce' | 'download_package' | 'read_document';

export interface CaseDetail {
  summary: CaseSummary;
  request: LegalRequestView;
  targetCount: number;
  documentSha256: string;
  decision?: {
    outcome: string;
    reasons: string[];
    disclosable: string[];
    withheld?: { category: string; reason: string }[];
    targets?: TargetFinding[];
    accounts?: string[];
    ipRange?: { from: string; to: string } | null;
    facts?: string;
    policyVersion?: string;
  };
  approvals?: { username: string; displayName: string }[];
  approvalsRequired?: number;
  commitment?: string;
  actions: CaseAction[];
}

export class DeskError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly issues: string[] = [],
  ) {
    super(`${code}: ${message}${issues.length > 0 ? ` (${issues.join('; ')})` : ''}`);
  }
}

const STORAGE_KEY = 'desk-session';

export function storedSession(): Session | null {
  try {
    const session = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Session | null;
    return session && session.expiresAt > Date.now() ? session : null;
  } catch {
    return null;
  }
}

export function storeSession(session: Session | null): void {
  if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(STORAGE_KEY);
}

/** Called when the server no longer knows the session (expired, logged out elsewhere, disabled). */
let onSessionLost: () => void = () => {};
export function whenSessionLost(callback: () => void): void {
  onSessionLost = callback;
}

async function errorOf(response: Response): Promise<DeskError> {
  let body: { error?: { code?: string; message?: string; details?: { issues?: string[] } } } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // Not JSON: the status says enough.
  }
  const code = body.error?.code ?? `HTTP_${response.status}`;
  if (code === 'DESK_SESSION_INVALID') onSessionLost();
  return new DeskError(
    code,
    body.error?.message ?? response.statusText,
    response.status,
    body.error?.details?.issues,
  );
}

/** One call to the desk API (path under /desk/v1); JSON in, JSON out (undefined for 204). */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const session = storedSession();
  const response = await fetch(`/desk/v1${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(session ? { authorization: `Desk ${session.token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** A file from the desk API (the court document, the signed package), as bytes. */
export async function apiBlob(path: string): Promise<Blob> {
  const session = storedSession();
  const response = await fetch(`/desk/v1${path}`, {
    headers: session ? { authorization: `Desk ${session.token}` } : {},
  });
  if (!response.ok) throw await errorOf(response);
  return response.blob();
}

/** A public endpoint of the transparency log (no session). */
export async function publicText(path: string): Promise<string> {
  const response = await fetch(path);
  if (!response.ok) throw await errorOf(response);
  return response.text();
}

/** Saves bytes as a file the browser downloads. */
export function saveAs(blob: Blob, filename: string): void {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

export const when = (ms: number | null | undefined): string =>
  ms === null || ms === undefined ? '' : new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
