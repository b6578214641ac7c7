import {
  CourierError,
  type GroupView,
  REPORT_LIMITS,
  REPORT_REASONS,
  type ReportReason,
} from '@courier/protocol';
import { draftReport, isReportReason } from '@courier/sdk';
import type { CommandContext } from '../context.ts';
import { Names } from '../names.ts';
import { parseChatRef, pickChat, resolveAccount } from '../resolve.ts';
import { safeJson, printable } from '../terminal-text.ts';

export interface ReportOptions {
  last?: string;
  reason?: string;
  comment?: string;
  yes?: boolean;
}

/** A chat of mine by id or title, or my direct chat with @user / +phone (never opened for a report). */
async function findChat(ctx: CommandContext, chat: string): Promise<GroupView> {
  const http = ctx.profile.http();
  const ref = parseChatRef(chat);
  if (ref.kind !== 'direct') return pickChat(await http.groups(), ref);
  const accountId = ref.with.kind === 'account' ? ref.with.accountId : await resolveAccount(http, chat);
  for (const group of (await http.groups()).filter((g) => g.kind === 'direct')) {
    const detail = await http.group(group.groupId);
    if (detail.members.some((m) => m.accountId === accountId)) return group;
  }
  throw new CourierError('GROUP_NOT_FOUND', {
    message: `You have no chat with ${printable(chat)}: there is nothing of theirs on this device to report.`,
  });
}

/**
 * `courier report <chat|@user>`: builds a report from this device's own decrypted history (the
 * chat's last messages, --last N), prints exactly what would be forwarded, and sends it only when
 * the person agrees (or with --yes). Nothing else of the chat leaves the device.
 */
export async function report(ctx: CommandContext, chat: string, options: ReportOptions): Promise<void> {
  ctx.profile.requireSession();
  const last = options.last === undefined ? REPORT_LIMITS.defaultLast : Number(options.last);
  if (!Number.isSafeInteger(last) || last < 0 || last > REPORT_LIMITS.maxMessages)
    throw new CourierError('REPORT_INVALID', {
      message: `--last takes a whole number from 0 to ${REPORT_LIMITS.maxMessages}.`,
    });
  let reason: string | undefined = options.reason;
  if (reason === undefined) {
    if (options.yes)
      throw new CourierError('REPORT_INVALID', {
        message: `With --yes, give --reason (${REPORT_REASONS.join(', ')}).`,
      });
    reason = (await ctx.ask(`Why do you report this chat? (${REPORT_REASONS.join(', ')}): `)).trim();
  }
  if (!isReportReason(reason))
    throw new CourierError('REPORT_INVALID', {
      message: `The reason is one of ${REPORT_REASONS.join(', ')}.`,
    });
  const group = await findChat(ctx, chat);
  const store = ctx.profile.deviceStore();
  let held: Awaited<ReturnType<typeof store.messages>>;
  try {
    held = await store.messages(group.groupId);
  } finally {
    store.close();
  }
  const draft = draftReport(group.groupId, held, {
    reason: reason as ReportReason,
    last,
    ...(options.comment ? { comment: options.comment } : {}),
  });
  const names = new Names(ctx.profile.http());
  if (ctx.json) ctx.io.err(safeJson({ willSend: draft.body }, 2));
  else {
    ctx.io.out(
      `This report of ${printable(group.kind === 'direct' ? chat : group.title)} would send to the operator's moderators:`,
    );
    ctx.io.out(`  reason: ${draft.body.reason}`);
    if (draft.body.comment) ctx.io.out(`  your comment: ${printable(draft.body.comment)}`);
    if (draft.body.messages.length === 0) ctx.io.out('  no messages');
    for (const m of draft.body.messages) {
      const when = new Date(m.sentAtMs).toISOString().slice(0, 16).replace('T', ' ');
      ctx.io.out(`  [${when}] ${printable(await names.of(m.senderAccountId))}: ${printable(m.text)}`);
    }
    ctx.io.out(
      `These ${draft.body.messages.length} messages leave this device readable, by your choice; nothing else of the chat does.`,
    );
  }
  if (!options.yes) {
    const answer = (await ctx.ask('Send this report? [y/N] ')).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') {
      ctx.io.out('Not sent.');
      return;
    }
  }
  const reply = await ctx.profile.http().fileReport(draft.body);
  if (ctx.json) ctx.io.out(safeJson({ ...reply, report: draft.body }, 2));
  else ctx.io.out(`Report ${reply.reportId} sent.`);
}
