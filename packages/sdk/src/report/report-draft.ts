import {
  CourierError,
  type FileReportBody,
  REPORT_LIMITS,
  REPORT_REASONS,
  type ReportReason,
} from '@courier/protocol';
import type { StoredMessage } from '../mls/mls-store.ts';

/** What the reporter chooses: which of the chat's messages to forward, the reason, a comment. */
export interface ReportChoice {
  reason: ReportReason;
  comment?: string;
  /** Forward the chat's last `last` messages (default REPORT_LIMITS.defaultLast). */
  last?: number;
  /** Or exactly these messages (by client message id), in the chat's order. */
  clientMsgIds?: readonly string[];
  /** The account reported; the server fills in the other person of a direct chat when left out. */
  reportedAccountId?: string;
}

/**
 * A report before it is sent: exactly what will leave the device, for the person to see and
 * consent to. Nothing else of the chat is in it.
 */
export interface ReportDraft {
  body: FileReportBody;
}

export const isReportReason = (value: unknown): value is ReportReason =>
  typeof value === 'string' && (REPORT_REASONS as readonly string[]).includes(value);

/**
 * Builds a report from the messages this device holds for one chat (decrypted locally): only
 * readable text messages (not roster changes), either the last N or the ones chosen by id, each
 * reduced to its sender, sending time and text.
 */
export function draftReport(
  chatId: string,
  held: readonly StoredMessage[],
  choice: ReportChoice,
): ReportDraft {
  const invalid = (message: string) => new CourierError('REPORT_INVALID', { message });
  if (!isReportReason(choice.reason)) throw invalid(`The reason is one of ${REPORT_REASONS.join(', ')}.`);
  if ((choice.comment?.length ?? 0) > REPORT_LIMITS.maxCommentLength)
    throw invalid(`A comment has at most ${REPORT_LIMITS.maxCommentLength} characters.`);
  const readable = held.filter((m) => m.groupId === chatId && m.roster === undefined && m.text.length > 0);
  let chosen: StoredMessage[];
  if (choice.clientMsgIds !== undefined) {
    const wanted = new Set(choice.clientMsgIds);
    chosen = readable.filter((m) => wanted.has(m.clientMsgId));
    if (chosen.length !== wanted.size) throw invalid('Some chosen messages are not held on this device.');
  } else {
    const last = choice.last ?? REPORT_LIMITS.defaultLast;
    if (!Number.isSafeInteger(last) || last < 0) throw invalid('--last takes a whole number, 0 or more.');
    chosen = last === 0 ? [] : readable.slice(-last);
  }
  if (chosen.length > REPORT_LIMITS.maxMessages)
    throw invalid(`A report forwards at most ${REPORT_LIMITS.maxMessages} messages.`);
  return {
    body: {
      chatId,
      ...(choice.reportedAccountId === undefined ? {} : { reportedAccountId: choice.reportedAccountId }),
      reason: choice.reason,
      ...(choice.comment ? { comment: choice.comment } : {}),
      messages: chosen.map((m) => ({
        senderAccountId: m.senderAccountId,
        sentAtMs: m.sentAtMs,
        text: m.text,
      })),
    },
  };
}
