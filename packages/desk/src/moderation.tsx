/**
 * The moderation queue (moderators): reports as their reporters forwarded them (text shown as
 * text, never markup), and suspensions, which take two moderators: one proposes, another approves.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, when } from './api.ts';
import { ErrorLine, TableScroll, useAction } from './ui.tsx';

interface ReportRow {
  reportId: string;
  receivedAt: number;
  reason: string;
  reportedAccountId: string | null;
  messageCount: number;
  state: string;
  suspension: string;
}
interface Report {
  reportId: string;
  reason: string;
  comment: string | null;
  messages: { sentAtMs: number; senderAccountId: string; text: string }[];
}
interface Suspension {
  accountId: string;
  state: string;
  proposedBy: string | null;
  proposedAt?: number | null;
  suspendedAt?: number | null;
  reportId: string | null;
}

export function Moderation() {
  const [filter, setFilter] = useState('open');
  const [reports, setReports] = useState<ReportRow[]>([]);
  const [suspensions, setSuspensions] = useState<Suspension[]>([]);
  const [report, setReport] = useState<Report | undefined>();
  const { error, busy, run } = useAction();

  const refresh = useCallback(async () => {
    const { reports } = await api<{ reports: ReportRow[] }>(
      'GET',
      `/moderation/reports${filter ? `?state=${filter}` : ''}`,
    );
    setReports(reports);
    setSuspensions((await api<{ suspensions: Suspension[] }>('GET', '/moderation/suspensions')).suspensions);
  }, [filter]);
  useEffect(() => void run(refresh), [run, refresh]);

  const act = (work: () => Promise<unknown>) => () =>
    run(async () => {
      await work();
      await refresh();
    });
  const read = (reportId: string) => () =>
    run(async () =>
      setReport(await api<Report>('GET', `/moderation/reports/${encodeURIComponent(reportId)}`)),
    );

  return (
    <section id="moderation-section" aria-labelledby="reports-title">
      <h2 id="reports-title">Reports</h2>
      <p>
        What a reporter chose to forward from their own device, with their consent: the only message text the
        server holds. Reading a report is recorded in the audit log. Suspending an account, and lifting a
        suspension, takes two moderators: one proposes, a different one approves.
      </p>
      <label>
        Show{' '}
        <select id="report-filter" value={filter} onChange={(e) => setFilter(e.currentTarget.value)}>
          <option value="open">open reports</option>
          <option value="handled">handled reports</option>
          <option value="">all reports</option>
        </select>
      </label>
      <ErrorLine text={error} />
      <TableScroll label="Reports">
        <table id="reports">
          <caption class="visually-hidden">Reports</caption>
          <thead>
            <tr>
              <th scope="col">Report</th>
              <th scope="col">Received</th>
              <th scope="col">Reason</th>
              <th scope="col">Reported account</th>
              <th scope="col">Messages</th>
              <th scope="col">State</th>
              <th scope="col">Account</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {reports.map((r) => (
              <tr key={r.reportId} data-report={r.reportId}>
                <td>{r.reportId}</td>
                <td>{when(r.receivedAt)}</td>
                <td>{r.reason}</td>
                <td>{r.reportedAccountId ?? '(none)'}</td>
                <td>{r.messageCount}</td>
                <td>{r.state}</td>
                <td>{r.suspension}</td>
                <td class="actions">
                  <button type="button" disabled={busy} onClick={read(r.reportId)}>
                    Read
                  </button>
                  {r.state === 'open' && (
                    <button
                      type="button"
                      disabled={busy}
                      onClick={act(() => api('POST', `/moderation/reports/${r.reportId}/handled`))}
                    >
                      Mark handled
                    </button>
                  )}
                  {r.reportedAccountId && r.suspension === 'active' && (
                    <button
                      type="button"
                      disabled={busy}
                      onClick={act(() =>
                        api('POST', `/moderation/suspensions/${r.reportedAccountId}/propose`, {
                          reportId: r.reportId,
                        }),
                      )}
                    >
                      Propose suspension
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
      {report && (
        <article id="report-detail" class="card" aria-labelledby="report-title">
          <h3 id="report-title">
            Report <span id="report-id">{report.reportId}</span>
          </h3>
          <p>
            Reason: <span id="report-reason">{report.reason}</span>. Comment:{' '}
            <span id="report-comment">{report.comment ?? '(none)'}</span>
          </p>
          <ol id="report-messages">
            {report.messages.map((m, i) => (
              <li key={i}>
                [{when(m.sentAtMs)}] {m.senderAccountId}: {m.text}
              </li>
            ))}
          </ol>
        </article>
      )}
      <h2>Suspensions</h2>
      <TableScroll label="Suspensions">
        <table id="suspensions">
          <caption class="visually-hidden">Suspensions</caption>
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">State</th>
              <th scope="col">Proposed by</th>
              <th scope="col">Since</th>
              <th scope="col">Report</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {suspensions.map((s) => {
              const path = `/moderation/suspensions/${s.accountId}`;
              return (
                <tr key={s.accountId} data-account={s.accountId}>
                  <td>{s.accountId}</td>
                  <td>{s.state}</td>
                  <td>{s.proposedBy ?? ''}</td>
                  <td>{when(s.suspendedAt ?? s.proposedAt)}</td>
                  <td>{s.reportId ?? ''}</td>
                  <td class="actions">
                    {(s.state === 'proposed' || s.state === 'lift_proposed') && (
                      <>
                        <button
                          type="button"
                          disabled={busy}
                          onClick={act(() => api('POST', `${path}/approve`))}
                        >
                          {s.state === 'proposed' ? 'Approve suspension' : 'Approve lifting'}
                        </button>
                        <button
                          type="button"
                          disabled={busy}
                          onClick={act(() => api('POST', `${path}/withdraw`))}
                        >
                          Withdraw proposal
                        </button>
                      </>
                    )}
                    {s.state === 'suspended' && (
                      <button
                        type="button"
                        disabled={busy}
                        onClick={act(() => api('POST', `${path}/propose-lift`))}
                      >
                        Propose lifting
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </TableScroll>
    </section>
  );
}
