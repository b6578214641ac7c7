import {
  computeReport,
  parseLeaf,
  type PublicLeaf,
  type PeriodSummary,
  reportCsv,
  reportPeriods,
  type TransparencyReport,
} from '@courier/protocol';
import { canonicalPolicy, POLICY_2018, POLICY_2024_EXAMPLE, policyHash } from '../legal/policy.ts';
import type { TransparencyLog } from './transparency-log.ts';

/** The policy versions this server can publish the text of, found by the hash the log holds. */
const KNOWN_POLICIES = [POLICY_2018, POLICY_2024_EXAMPLE];

/** The canonical text (JSON) of the policy a report names; anyone can hash it and compare. */
export function policyTextFor(report: Pick<TransparencyReport, 'policy'>): string | null {
  const policy = KNOWN_POLICIES.find((p) => policyHash(p) === report.policy?.hash);
  return policy ? canonicalPolicy(policy) : null;
}

export type ReportFormat = 'json' | 'csv' | 'html';
export const REPORT_TYPES: Record<ReportFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  html: 'text/html; charset=utf-8',
};

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pairs = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');

function reportHtml(
  report: TransparencyReport,
  checkpoint: string,
  verifierKey: string,
  origin: string,
  policyText: string | null,
): string {
  const row = (name: string, r: TransparencyReport['totals']) =>
    `<tr><td>${esc(name)}</td><td>${r.received}</td><td>${r.notConsidered}</td><td>${r.rejected}</td><td>${esc(pairs(r.rejectedByReason))}</td><td>${r.eligible}</td><td>${r.narrowed}</td><td>${r.declined}</td><td>${r.fulfilled}</td><td>${r.pending}</td><td>${r.accountsSpecified}</td><td>${r.accountsAffected}</td><td>${esc(pairs(r.categoriesDisclosed))}</td></tr>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Courier transparency report ${esc(report.period)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:75rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}pre{background:#f5f5f5;padding:.5rem}</style></head><body>
<h1>Transparency report ${esc(report.period)}</h1>
<p>Requests from authorities received in this period, by country, and what became of them, computed from the public log
(${report.logSize} leaves), never typed by hand. Policy in force: <code>${esc(report.policy?.version ?? 'none')}</code>
(<a href="/privacy">privacy policy</a>). Requests by instrument: ${esc(pairs(report.byInstrument) || 'none')}.</p>
<h2>The disclosure policy in force</h2>
<pre>${esc(policyText === null ? 'none recorded' : JSON.stringify(JSON.parse(policyText), null, 2))}</pre>
<table><tr><th>country</th><th>received</th><th>not considered</th><th>rejected</th><th>rejected by reason</th><th>eligible</th><th>narrowed</th><th>declined</th><th>fulfilled</th><th>pending</th><th>accounts specified</th><th>accounts affected</th><th>categories disclosed</th></tr>
${report.countries.map((r) => row(r.country, r)).join('\n')}
${row('Total', report.totals)}</table>
<h2>Accounts suspended</h2>
<p>Suspended in this period (each by two moderators, after a report or on their own finding): ${report.moderation.suspended}
(by the cited report's reason: ${esc(pairs(report.moderation.suspendedByReason) || 'none')}); suspensions lifted: ${report.moderation.lifted}.</p>
<h2>Verify it yourself</h2>
<p><code>courier verify-report --period ${esc(report.period)} --key '${esc(verifierKey)}' --origin '${esc(origin)}'</code> recomputes every number and the log's root
from the public leaves and checks this signed checkpoint:</p><pre>${esc(checkpoint)}</pre></body></html>`;
}

async function publicLeaves(log: TransparencyLog): Promise<PublicLeaf[]> {
  return (await log.leaves(0, Number.MAX_SAFE_INTEGER))
    .map((l) => parseLeaf(l.leaf))
    .filter((l): l is PublicLeaf => l !== undefined);
}

/** The list of report periods (since the log's first policy) up to `now`, with each one's totals. */
export async function listPeriods(
  log: TransparencyLog,
  now: number,
): Promise<{ current: string; periods: PeriodSummary[] }> {
  const periods = reportPeriods(await publicLeaves(log), now);
  return { current: periods.at(-1)!.period, periods };
}

/** A period's report from the log, with the signed checkpoint that covers it. */
export async function renderReport(
  log: TransparencyLog,
  period: string,
  format: ReportFormat,
): Promise<string> {
  // Leaves first: the checkpoint read after them covers at least as many.
  const leaves = await publicLeaves(log);
  const checkpoint = await log.latest();
  const report = computeReport(leaves, period);
  switch (format) {
    case 'csv':
      return reportCsv(report);
    case 'html':
      return reportHtml(report, checkpoint, log.verifierKey, log.origin, policyTextFor(report));
    default:
      return JSON.stringify({ ...report, policyText: policyTextFor(report), checkpoint });
  }
}
