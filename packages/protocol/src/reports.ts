/**
 * Reports (issue 12): the one place where plaintext reaches the server, by the reporter's explicit
 * consent. The reporter's device decrypts the messages it chose to forward and sends them here.
 */

export const REPORT_REASONS = ['spam', 'abuse', 'illegal', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];

/** The bounds of one report, checked by the client before it asks for consent and by the server. */
export const REPORT_LIMITS = {
  /** Messages one report forwards. */
  maxMessages: 50,
  /** Characters of one forwarded message (the longest message a client sends). */
  maxTextLength: 16_384,
  /** Characters of the reporter's comment. */
  maxCommentLength: 1_000,
  /** What `courier report` forwards when not told otherwise: the chat's last messages. */
  defaultLast: 10,
} as const;

/** One forwarded message, exactly as the reporter's device holds it. */
export interface ReportedMessage {
  senderAccountId: string;
  sentAtMs: number;
  text: string;
}

/** `POST /v1/reports`. */
export interface FileReportBody {
  chatId: string;
  /** The account reported; for a direct chat, the other person (the SDK fills it in). */
  reportedAccountId?: string;
  reason: ReportReason;
  comment?: string;
  messages: ReportedMessage[];
}

export interface FileReportReply {
  reportId: string;
  receivedAtMs: number;
}

/** A report as its reporter sees it (in their data export). */
export interface FiledReportView {
  reportId: string;
  chatId: string | null;
  reportedAccountId: string | null;
  reason: ReportReason;
  comment: string | null;
  messages: ReportedMessage[];
  receivedAtMs: number;
  state: 'open' | 'handled';
}
