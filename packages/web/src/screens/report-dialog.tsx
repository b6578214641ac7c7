/**
 * Reporting a chat or a message request (issue 12): the person picks which of the last messages to
 * forward (the last 10 chosen at first), a reason and a comment; then reads exactly what will leave
 * the device (the SDK's draft, decrypted here) and that the operator's moderators will be able to
 * read it, and agrees before anything is sent. Optionally blocks the person too. A modal <dialog>:
 * the browser keeps the keyboard inside it and Escape closes it.
 */
import { REPORT_LIMITS, REPORT_REASONS, type ReportReason } from '@courier/protocol';
import { useEffect, useRef, useState } from 'preact/hooks';
import { device } from '../rpc.ts';
import { Alert, useAction } from '../ui/errors.tsx';
import type { ReportCandidate, ReportPreview } from '../worker/types.ts';

const REASON_TEXT: Record<ReportReason, string> = {
  spam: 'Spam',
  abuse: 'Abuse or harassment',
  illegal: 'Illegal content',
  other: 'Something else',
};

const when = (ms: number) =>
  new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function ReportDialog(props: {
  groupId: string;
  /** The chat's name as the person knows it. */
  title: string;
  /** The person a direct chat or request is with: offered "also block". */
  peer?: { accountId: string; name: string };
  onClose: () => void;
  /** Sent; `blocked` when the person chose to block too. */
  onSent: (blocked: boolean) => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [candidates, setCandidates] = useState<ReportCandidate[] | undefined>();
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [reason, setReason] = useState<ReportReason>('spam');
  const [comment, setComment] = useState('');
  const [alsoBlock, setAlsoBlock] = useState(false);
  const [preview, setPreview] = useState<ReportPreview | undefined>();
  const [consent, setConsent] = useState(false);
  const { error, busy, run } = useAction();

  useEffect(() => {
    dialog.current?.showModal();
    void run(async () => {
      const list = await device.reportCandidates(props.groupId);
      setCandidates(list);
      setChosen(new Set(list.slice(-REPORT_LIMITS.defaultLast).map((m) => m.clientMsgId)));
    });
  }, [props.groupId, run]);

  const toggle = (id: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(id);
    else next.delete(id);
    setChosen(next);
  };

  const review = () =>
    void run(async () => {
      const ids = (candidates ?? []).filter((m) => chosen.has(m.clientMsgId)).map((m) => m.clientMsgId);
      setPreview(await device.draftReport(props.groupId, { reason, comment, clientMsgIds: ids }));
      setConsent(false);
    });

  const send = () =>
    void run(async () => {
      if (!preview || !consent) return;
      await device.sendReport(preview.body, alsoBlock ? props.peer?.accountId : undefined);
      dialog.current?.close();
      props.onSent(alsoBlock && props.peer !== undefined);
    });

  return (
    <dialog
      ref={dialog}
      class="report-dialog"
      aria-labelledby="report-title"
      onClose={props.onClose}
      onCancel={props.onClose}
    >
      <h2 id="report-title">Report {props.title}</h2>
      {!preview ? (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            review();
          }}
        >
          <fieldset>
            <legend>Messages to forward</legend>
            <p class="hint">
              The last {REPORT_LIMITS.defaultLast} are chosen; pick the ones that show the problem (at most{' '}
              {REPORT_LIMITS.maxMessages}).
            </p>
            {candidates === undefined ? (
              <p>Reading the messages on this device…</p>
            ) : candidates.length === 0 ? (
              <p>There are no messages on this device to forward. You can still report with a comment.</p>
            ) : (
              <ul class="report-candidates">
                {candidates.map((m) => (
                  <li key={m.clientMsgId}>
                    <label>
                      <input
                        type="checkbox"
                        checked={chosen.has(m.clientMsgId)}
                        onChange={(e) => toggle(m.clientMsgId, e.currentTarget.checked)}
                      />{' '}
                      <span class="sender">{m.senderName}</span>{' '}
                      <time dateTime={new Date(m.sentAtMs).toISOString()}>{when(m.sentAtMs)}</time>:{' '}
                      <span class="text">{m.text}</span>
                    </label>
                  </li>
                ))}
              </ul>
            )}
          </fieldset>
          <label for="report-reason">Reason</label>
          <select
            id="report-reason"
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value as ReportReason)}
          >
            {REPORT_REASONS.map((r) => (
              <option key={r} value={r}>
                {REASON_TEXT[r]}
              </option>
            ))}
          </select>
          <label for="report-comment">Comment (optional)</label>
          <textarea
            id="report-comment"
            maxLength={REPORT_LIMITS.maxCommentLength}
            value={comment}
            onInput={(e) => setComment(e.currentTarget.value)}
          />
          {props.peer && (
            <label class="check">
              <input
                type="checkbox"
                checked={alsoBlock}
                onChange={(e) => setAlsoBlock(e.currentTarget.checked)}
              />{' '}
              Also block {props.peer.name}
            </label>
          )}
          <div class="row">
            <button type="submit" disabled={busy || candidates === undefined}>
              Review the report
            </button>
            <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            send();
          }}
        >
          <p id="report-warning" class="warning">
            Your messages are end-to-end encrypted: nobody but the people in this chat can read them. A report
            is the exception. The {preview.body.messages.length === 1 ? 'message' : 'messages'} below will be
            sent, decrypted, to the moderators of this Courier service, who will be able to read{' '}
            {preview.body.messages.length === 1 ? 'it' : 'them'}, with your name and your comment. Nothing
            else of the chat is sent.
            {preview.reportedName ? ` ${preview.reportedName} is not told who reported them.` : ''}
          </p>
          <section aria-labelledby="report-exact-title">
            <h3 id="report-exact-title">Exactly what will be sent</h3>
            <dl class="report-summary">
              <dt>Reason</dt>
              <dd>{REASON_TEXT[preview.body.reason]}</dd>
              {preview.reportedName && (
                <>
                  <dt>Reported</dt>
                  <dd>{preview.reportedName}</dd>
                </>
              )}
              <dt>Comment</dt>
              <dd>{preview.body.comment ?? '(none)'}</dd>
            </dl>
            {preview.body.messages.length === 0 ? (
              <p>No messages.</p>
            ) : (
              <ol class="report-forwarded" aria-label="Messages that will be forwarded">
                {preview.body.messages.map((m, index) => (
                  <li key={`${index}:${m.sentAtMs}`}>
                    <span class="sender">{preview.senderNames[m.senderAccountId] ?? 'Someone'}</span>{' '}
                    <time dateTime={new Date(m.sentAtMs).toISOString()}>{when(m.sentAtMs)}</time>:{' '}
                    <span class="text">{m.text}</span>
                  </li>
                ))}
              </ol>
            )}
            {alsoBlock && props.peer && <p>After sending, {props.peer.name} will be blocked.</p>}
          </section>
          <label class="check">
            <input
              type="checkbox"
              checked={consent}
              onChange={(e) => setConsent(e.currentTarget.checked)}
              aria-describedby="report-warning"
            />{' '}
            I agree to send exactly this to the moderators
          </label>
          <div class="row">
            <button type="submit" disabled={busy || !consent}>
              Send report
            </button>
            <button type="button" class="secondary" onClick={() => setPreview(undefined)}>
              Change
            </button>
            <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <Alert text={error} />
    </dialog>
  );
}
