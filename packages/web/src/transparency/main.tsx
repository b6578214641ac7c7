/**
 * The public transparency page (/transparency and /transparency/2026-H2): every report period, the
 * chosen period's figures by country, charts over the periods, the policy in force in plain words,
 * the signed checkpoint and how to verify it all with `courier verify-report`. It reads only the
 * public JSON under /v1/transparency; no sign-in, no SDK, no worker.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AccountsChart, OutcomeChart, SuspensionChart } from './charts.tsx';
import { CountryTable } from './country-table.tsx';
import { PolicyInWords } from './policy-words.tsx';
import type { PeriodList, PublishedReport } from './types.ts';
import './transparency.css';

const PERIOD = /^\/transparency\/(\d{4}-H[12])\/?$/;

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return (await response.json()) as T;
}
async function getText(path: string): Promise<string> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return (await response.text()).trim();
}

const pairs = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, v]) => `${k.replaceAll('_', ' ')}: ${v}`)
    .join(', ');

interface Loaded {
  list: PeriodList;
  report: PublishedReport;
  key: string;
  origin: string;
}

function TransparencyPage() {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    (async () => {
      const list = await getJson<PeriodList>('/v1/transparency/periods');
      const period = location.pathname.match(PERIOD)?.[1] ?? list.current;
      const [report, key, origin] = await Promise.all([
        getJson<PublishedReport>(`/v1/transparency/reports/${period}.json`),
        getText('/v1/transparency/key'),
        getText('/v1/transparency/origin'),
      ]);
      document.title = `Courier transparency report ${period}`;
      setLoaded({ list, report, key, origin });
    })().catch((error: unknown) => setFailure(error instanceof Error ? error.message : String(error)));
  }, []);

  if (failure !== null)
    return (
      <main>
        <h1>Courier transparency report</h1>
        <p role="alert">The report could not be loaded ({failure}). Try again later.</p>
      </main>
    );
  if (loaded === null)
    return (
      <main aria-busy="true">
        <h1>Courier transparency report</h1>
        <p>Loading the report…</p>
      </main>
    );
  const { list, report, key, origin } = loaded;
  const period = report.period;
  const base = `/v1/transparency/reports/${period}`;
  const t = report.totals;
  return (
    <>
      <header class="top">
        <a href="/transparency">Courier transparency</a>
        <a href="/privacy">Privacy policy</a>
      </header>
      <main>
        <h1>Transparency report {period}</h1>
        <p>
          Requests from authorities for data about Courier accounts received in {period}, by country, and what
          became of them. Every number is computed from a public, signed log ({report.logSize} entries), never
          typed by hand, and you can check it yourself (see the end of this page).
        </p>
        <p class="summary">
          In {period}: <strong>{t.received}</strong> requests received, {t.notConsidered} not considered,{' '}
          {t.rejected} rejected, {t.declined} declined after review, {t.fulfilled} fulfilled, {t.pending}{' '}
          pending; data of {t.accountsAffected} accounts disclosed.
        </p>
        <p>
          Download this report: <a href={`${base}.json`}>JSON</a> · <a href={`${base}.csv`}>CSV</a>
        </p>

        <nav aria-labelledby="periods-heading">
          <h2 id="periods-heading">All periods</h2>
          <ul class="periods">
            {[...list.periods].reverse().map((p) => (
              <li key={p.period}>
                <a href={`/transparency/${p.period}`} aria-current={p.period === period ? 'page' : undefined}>
                  {p.period}
                </a>{' '}
                <span class="muted">
                  {p.received} received, {p.fulfilled} fulfilled
                  {p.period === list.current ? ' (current, still counting)' : ''}
                </span>
              </li>
            ))}
          </ul>
        </nav>

        <section aria-labelledby="charts-heading">
          <h2 id="charts-heading">Requests and outcomes over the periods</h2>
          <h3>Requests received, by outcome</h3>
          <OutcomeChart periods={list.periods} />
          <h3>Accounts whose data was disclosed</h3>
          <AccountsChart periods={list.periods} />
        </section>

        <section aria-labelledby="countries-heading">
          <h2 id="countries-heading">{period} by country</h2>
          {report.countries.length === 0 ? (
            <p>No requests were received in this period.</p>
          ) : (
            <div class="tables">
              {report.countries.map((row) => (
                <CountryTable key={row.country} row={row} />
              ))}
              <CountryTable row={{ ...t, country: '' }} total />
            </div>
          )}
          <p>By instrument: {pairs(report.byInstrument) || 'none'}.</p>
        </section>

        <section aria-labelledby="moderation-heading">
          <h2 id="moderation-heading">Accounts suspended</h2>
          <p>
            Suspended in {period}, each by two moderators after a report or on their own finding:{' '}
            {report.moderation.suspended}
            {report.moderation.suspended > 0
              ? ` (by reason: ${pairs(report.moderation.suspendedByReason)})`
              : ''}
            ; suspensions lifted: {report.moderation.lifted}.
          </p>
          <h3>Suspensions over the periods</h3>
          <SuspensionChart periods={list.periods} />
        </section>

        <section aria-labelledby="policy-heading">
          <h2 id="policy-heading">The disclosure policy in force</h2>
          <PolicyInWords text={report.policyText} />
        </section>

        <section aria-labelledby="checkpoint-heading">
          <h2 id="checkpoint-heading">The signed checkpoint</h2>
          <p>
            The log's newest checkpoint covering this report: its name, size, root hash and time, signed with
            the operator's key.
          </p>
          <pre class="wrap" id="checkpoint">
            {report.checkpoint}
          </pre>
          <p>
            Raw: <a href="/v1/transparency/checkpoint">checkpoint</a> ·{' '}
            <a href="/v1/transparency/key">verifier key</a> ·{' '}
            <a href="/v1/transparency/leaves?start=0">log entries</a>
          </p>
        </section>

        <section aria-labelledby="verify-heading">
          <h2 id="verify-heading">Verify it yourself</h2>
          <p>
            With the Courier command line (<code>courier</code>; in a checkout of the Courier repository,{' '}
            <code>npm run courier --</code>), run:
          </p>
          <pre class="wrap" id="verify-command">
            {`courier --server ${location.origin} verify-report --period ${period} --key '${key}' --origin '${origin}'`}
          </pre>
          <p>
            It opens the signed checkpoint with the key you give it (pin the key; do not take this page's word
            for it), fetches every log entry, recomputes the root and every number of this report, checks that
            the policy text is the one the log names, and that the log only grew since you last checked. Any
            mismatch prints <code>VERIFICATION FAILED</code>.
          </p>
        </section>
      </main>
    </>
  );
}

render(<TransparencyPage />, document.getElementById('transparency')!);
