/**
 * One case: the request as the desk parsed it, the court document, the policy decision and its
 * reasons, approvals so far, and the actions the server says this person may take now.
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import {
  api,
  apiBlob,
  type CaseAction,
  type CaseDetail,
  type Session,
  saveAs,
  type TargetFinding,
  when,
} from './api.ts';
import { ErrorLine, StatusBadge, useAction } from './ui.tsx';

const targetText = (target: Record<string, string>) =>
  Object.entries(target)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

const findingText = (t: TargetFinding) =>
  `${targetText(t.target)}: ${t.status === 'found' ? `found (${t.accountId})` : t.status.replace('_', ' ')}`;

function Field(props: { label: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </>
  );
}

export function CaseView(props: { session: Session; caseId: string }) {
  const [detail, setDetail] = useState<CaseDetail | undefined>();
  const [declining, setDeclining] = useState(false);
  const [reason, setReason] = useState('');
  const [notice, setNotice] = useState('');
  const { error, busy, run } = useAction();
  const path = `/requests/${encodeURIComponent(props.caseId)}`;
  const load = useCallback(async () => setDetail(await api<CaseDetail>('GET', path)), [path]);
  useEffect(() => void run(load), [run, load]);

  const act = (action: CaseAction) => () =>
    run(async () => {
      setNotice('');
      if (action === 'download_package') {
        const text = await (await apiBlob(`${path}/package`)).text();
        saveAs(new Blob([text], { type: 'application/json' }), `${props.caseId}.json`);
      } else if (action === 'read_document') {
        saveAs(await apiBlob(`${path}/document`), `${props.caseId}-document`);
      } else if (action === 'approve') {
        const { approvals, approved } = await api<{ approvals: number; approved: boolean }>(
          'POST',
          `${path}/approve`,
        );
        // The case is shown as it now is before the notice says what changed.
        await load();
        setNotice(approved ? 'Approved: the case can be produced.' : `Approval ${approvals} recorded.`);
      } else if (action === 'produce') {
        const { packageHash } = await api<{ packageHash: string }>('POST', `${path}/produce`);
        await load();
        setNotice(`Produced: the signed package's SHA-256 is ${packageHash}.`);
      }
    });
  const decline = (event: SubmitEvent) => {
    event.preventDefault();
    void run(async () => {
      await api('POST', `${path}/decline`, { reason: reason.trim() });
      setDeclining(false);
      setReason('');
      await load();
      setNotice('Declined.');
    });
  };

  const labels: Record<CaseAction, string> = {
    approve: 'Approve',
    decline: 'Decline…',
    produce: 'Produce the package',
    download_package: 'Download package',
    read_document: 'Download the court document',
  };
  const request = detail?.request;
  const decision = detail?.decision;
  return (
    <section aria-labelledby="case-title" id="case-view" data-case={props.caseId}>
      <p>
        <a href="#/requests">← All requests</a>
      </p>
      <h2 id="case-title">
        Case <code>{props.caseId}</code> {detail && <StatusBadge status={detail.summary.status} />}
      </h2>
      <ErrorLine text={error} />
      {notice && (
        <p id="notice" class="notice" role="status">
          {notice}
        </p>
      )}
      {detail && request && (
        <>
          <div class="actions" id="case-actions">
            {detail.actions.map((action) => (
              <button
                key={action}
                type="button"
                disabled={busy}
                class={action === 'decline' || action === 'read_document' ? 'secondary' : ''}
                onClick={action === 'decline' ? () => setDeclining(true) : act(action)}
              >
                {labels[action]}
              </button>
            ))}
          </div>
          {declining && (
            <form class="card" id="decline-form" onSubmit={decline}>
              <label>
                Why is this case declined? (kept in the case record, never published)
                <textarea
                  name="reason"
                  required
                  maxLength={200}
                  rows={3}
                  value={reason}
                  onInput={(e) => setReason(e.currentTarget.value)}
                />
              </label>
              <div class="actions">
                <button type="submit" disabled={busy || reason.trim() === ''}>
                  Decline the case
                </button>
                <button type="button" class="secondary" onClick={() => setDeclining(false)}>
                  Cancel
                </button>
              </div>
            </form>
          )}
          <div class="columns">
            <section class="card" aria-labelledby="request-title">
              <h3 id="request-title">The request</h3>
              <dl>
                <Field label="Received">{when(detail.summary.receivedAt)}</Field>
                <Field label="Authority">
                  {request.authority.name} ({request.authority.kind}, {request.authority.country})
                </Field>
                <Field label="Instrument">
                  {request.instrument.type.replace('_', ' ')} {request.instrument.reference} of{' '}
                  {request.instrument.issueDate}
                  {request.instrument.issuingCourt ? `, ${request.instrument.issuingCourt}` : ''}
                </Field>
                <Field label="Offence">
                  {request.offence.category};{' '}
                  {request.offence.confirmsSuspect
                    ? 'the order confirms the account holder is a suspect'
                    : 'the order does not confirm a suspect'}
                </Field>
                <Field label="Targets">
                  {request.targets ? (
                    <ul class="plain">
                      {request.targets.map((t, i) => (
                        <li key={i}>{targetText(t as Record<string, string>)}</li>
                      ))}
                    </ul>
                  ) : (
                    `${detail.targetCount} (not shown to auditors)`
                  )}
                </Field>
                <Field label="Time range">
                  {request.timeRange.from} to {request.timeRange.to}
                </Field>
                <Field label="Asked for">{request.requestedCategories.join(', ')}</Field>
                <Field label="Non-disclosure">
                  {request.nonDisclosure ? `until ${request.nonDisclosure.until}` : 'none'}
                </Field>
                <Field label="Court document">
                  SHA-256 <code class="hash">{detail.documentSha256}</code>
                </Field>
              </dl>
            </section>
            {decision && (
              <section class="card" aria-labelledby="decision-title" id="decision-detail">
                <h3 id="decision-title">The policy's decision</h3>
                <dl>
                  <Field label="Outcome">
                    <strong>{decision.outcome}</strong>
                    {decision.policyVersion ? ` (policy ${decision.policyVersion})` : ''}
                  </Field>
                  <Field label="Reasons">
                    {decision.reasons.length === 0 ? (
                      'none: everything asked may be disclosed'
                    ) : (
                      <ul class="plain" id="decision-reasons">
                        {decision.reasons.map((r) => (
                          <li key={r}>
                            <code>{r}</code>
                          </li>
                        ))}
                      </ul>
                    )}
                  </Field>
                  <Field label="May disclose">{decision.disclosable.join(', ') || 'nothing'}</Field>
                  {decision.withheld && decision.withheld.length > 0 && (
                    <Field label="Withheld">
                      <ul class="plain">
                        {decision.withheld.map((w) => (
                          <li key={w.category}>
                            {w.category}: <code>{w.reason}</code>
                          </li>
                        ))}
                      </ul>
                    </Field>
                  )}
                  {decision.targets && (
                    <Field label="Findings">
                      <ul class="plain" id="findings">
                        {decision.targets.map((t, i) => (
                          <li key={i}>{findingText(t)}</li>
                        ))}
                      </ul>
                    </Field>
                  )}
                  {decision.ipRange && (
                    <Field label="IP records from">
                      {decision.ipRange.from} to {decision.ipRange.to}
                    </Field>
                  )}
                  {detail.summary.declineReason && (
                    <Field label="Declined because">{detail.summary.declineReason}</Field>
                  )}
                </dl>
              </section>
            )}
            {detail.approvals && (
              <section class="card" aria-labelledby="approvals-title" id="approvals">
                <h3 id="approvals-title">
                  Approvals: {detail.approvals.length} of {detail.approvalsRequired}
                </h3>
                {detail.approvals.length === 0 ? (
                  <p>No approval yet. Two different approvers must agree before anything is produced.</p>
                ) : (
                  <ol>
                    {detail.approvals.map((a) => (
                      <li key={a.username}>
                        {a.displayName} ({a.username})
                      </li>
                    ))}
                  </ol>
                )}
                {detail.commitment && (
                  <p>
                    In the public log this case is{' '}
                    <a href={`#/log?case=${detail.commitment}`}>
                      <code class="hash">{detail.commitment.slice(0, 16)}…</code>
                    </a>
                  </p>
                )}
              </section>
            )}
          </div>
        </>
      )}
    </section>
  );
}
