/**
 * The request queue: every case (staff) or the authority's own, newest first, filtered by status,
 * country, outcome (staff) and age. Filtering happens here, on the list the server allowed.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, type CaseSummary, type Session, when } from './api.ts';
import { AGES, filterCases, OUTCOMES, type QueueFilters } from './queue-filter.ts';
import { ErrorLine, TableScroll, STATUS_WORDS, StatusBadge, useAction } from './ui.tsx';

export function Queue(props: { session: Session }) {
  const staff = props.session.kind === 'staff';
  const [cases, setCases] = useState<CaseSummary[] | undefined>();
  const [filters, setFilters] = useState<QueueFilters>({ status: '', country: '', outcome: '', age: '' });
  const { error, run } = useAction();
  useEffect(() => {
    void run(async () => setCases((await api<{ requests: CaseSummary[] }>('GET', '/requests')).requests));
  }, [run]);
  const countries = useMemo(() => [...new Set((cases ?? []).map((c) => c.country))].sort(), [cases]);
  const shown = useMemo(
    () => filterCases(cases ?? [], filters, Date.now()).sort((a, b) => b.receivedAt - a.receivedAt),
    [cases, filters],
  );
  const set = (key: keyof QueueFilters) => (event: Event) =>
    setFilters({ ...filters, [key]: (event.currentTarget as HTMLSelectElement).value });

  return (
    <section aria-labelledby="queue-title">
      <h2 id="queue-title">{staff ? 'Requests' : 'Our requests'}</h2>
      <form class="filters" aria-label="Filter the requests" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select name="status" value={filters.status} onChange={set('status')}>
            <option value="">all</option>
            {Object.entries(STATUS_WORDS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Country
          <select name="country" value={filters.country} onChange={set('country')}>
            <option value="">all</option>
            {countries.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        {staff && (
          <label>
            Outcome
            <select name="outcome" value={filters.outcome} onChange={set('outcome')}>
              <option value="">all</option>
              {OUTCOMES.map((o) => (
                <option key={o} value={o}>
                  {o.replace('_', ' ')}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          Received
          <select name="age" value={filters.age} onChange={set('age')}>
            {Object.entries(AGES).map(([value, [label]]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ErrorLine text={error} />
      {cases && (
        <p class="count" aria-live="polite">
          {shown.length} of {cases.length} requests
        </p>
      )}
      <TableScroll label="Requests">
        <table id="cases">
          <caption class="visually-hidden">Requests, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Case</th>
              <th scope="col">Received</th>
              <th scope="col">Country</th>
              <th scope="col">Status</th>
              {staff && <th scope="col">Outcome</th>}
              {staff && <th scope="col">Reasons</th>}
            </tr>
          </thead>
          <tbody>
            {shown.map((c) => (
              <tr key={c.caseId} data-case={c.caseId}>
                <td data-label="Case">
                  <a href={`#/requests/${encodeURIComponent(c.caseId)}`}>{c.caseId}</a>
                </td>
                <td data-label="Received">{when(c.receivedAt)}</td>
                <td data-label="Country">{c.country}</td>
                <td data-label="Status">
                  <StatusBadge status={c.status} />
                </td>
                {staff && <td data-label="Outcome">{c.outcome}</td>}
                {staff && <td data-label="Reasons">{(c.reasons ?? []).join(', ')}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
    </section>
  );
}
