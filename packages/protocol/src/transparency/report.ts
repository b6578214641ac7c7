import type { PublicLeaf } from './log-leaf.ts';

/** A reporting period: `2026-H1` (Jan–Jun, UTC) or `2026-H2` (Jul–Dec); quarterly `2026-Q3` too. */
export function periodOf(at: number, kind: 'semiannual' | 'quarterly' = 'semiannual'): string {
  const d = new Date(at);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  return kind === 'semiannual' ? `${year}-H${month < 6 ? 1 : 2}` : `${year}-Q${Math.floor(month / 3) + 1}`;
}

export function periodBounds(period: string): { from: number; to: number } {
  const m = period.match(/^(\d{4})-(H[12]|Q[1-4])$/);
  if (!m) throw new Error(`not a period: ${period}`);
  const year = Number(m[1]);
  const [startMonth, months] = m[2]!.startsWith('H')
    ? [(Number(m[2]![1]) - 1) * 6, 6]
    : [(Number(m[2]![1]) - 1) * 3, 3];
  return { from: Date.UTC(year, startMonth, 1), to: Date.UTC(year, startMonth + months, 1) };
}

export interface CountryRow {
  country: string;
  received: number;
  notConsidered: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  eligible: number;
  narrowed: number;
  declined: number;
  fulfilled: number;
  pending: number;
  accountsSpecified: number;
  accountsAffected: number;
  categoriesDisclosed: Record<string, number>;
}

export interface TransparencyReport {
  period: string;
  /** The disclosure policy in force at the end of the period (the last policy leaf before it). */
  policy: { version: string; hash: string } | null;
  /** Requests received in the period by instrument type (court_order, subpoena, …). */
  byInstrument: Record<string, number>;
  /** Requests received in the period, by country; followed to their end in the log. */
  countries: CountryRow[];
  totals: Omit<CountryRow, 'country'>;
  /** The log size the report was computed from. */
  logSize: number;
  /** Accounts suspended, and suspensions lifted, in the period (two moderators each; issue 12). */
  moderation: { suspended: number; lifted: number; suspendedByReason: Record<string, number> };
}

const emptyRow = (country: string): CountryRow => ({
  country,
  received: 0,
  notConsidered: 0,
  rejected: 0,
  rejectedByReason: {},
  eligible: 0,
  narrowed: 0,
  declined: 0,
  fulfilled: 0,
  pending: 0,
  accountsSpecified: 0,
  accountsAffected: 0,
  categoriesDisclosed: {},
});

const bump = (record: Record<string, number>, key: string, by = 1) => {
  record[key] = (record[key] ?? 0) + by;
};

/**
 * Computes a period's report from the log's leaves alone, so that anyone holding the leaves gets
 * the same numbers (P7, P8). A period with nothing still yields a (zero) report.
 */
export function computeReport(leaves: readonly PublicLeaf[], period: string): TransparencyReport {
  const { from, to } = periodBounds(period);
  const rows = new Map<string, CountryRow>();
  const caseCountry = new Map<string, string>();
  const caseState = new Map<string, 'pending' | 'declined' | 'fulfilled'>();
  const byInstrument: Record<string, number> = {};
  let policy: TransparencyReport['policy'] = null;
  const moderation: TransparencyReport['moderation'] = { suspended: 0, lifted: 0, suspendedByReason: {} };
  for (const leaf of leaves) {
    if (leaf.type === 'suspension' && leaf.at >= from && leaf.at < to) {
      if (leaf.action === 'lifted') moderation.lifted += 1;
      else {
        moderation.suspended += 1;
        bump(moderation.suspendedByReason, leaf.reason);
      }
    }
    if (leaf.type === 'policy' && leaf.at < to)
      policy = { version: leaf.policyVersion, hash: leaf.policyHash };
    if (leaf.type === 'request' && leaf.at >= from && leaf.at < to) {
      const row = rows.get(leaf.country) ?? emptyRow(leaf.country);
      rows.set(leaf.country, row);
      row.received += 1;
      bump(byInstrument, leaf.instrument);
      row.accountsSpecified += leaf.accountsSpecified;
      if (leaf.outcome === 'not_considered') row.notConsidered += 1;
      else if (leaf.outcome === 'rejected') {
        row.rejected += 1;
        for (const r of leaf.reasons) bump(row.rejectedByReason, r);
      } else {
        row.eligible += 1;
        if (leaf.reasons.length > 0) row.narrowed += 1;
        caseCountry.set(leaf.case, leaf.country);
        caseState.set(leaf.case, 'pending');
      }
    } else if (leaf.type === 'rejection' && caseState.get(leaf.case) === 'pending') {
      caseState.set(leaf.case, 'declined');
    } else if (leaf.type === 'production' && caseState.get(leaf.case) === 'pending') {
      caseState.set(leaf.case, 'fulfilled');
      const row = rows.get(caseCountry.get(leaf.case)!)!;
      row.accountsAffected += leaf.accountsAffected;
      for (const c of leaf.categories) bump(row.categoriesDisclosed, c);
    }
  }
  for (const [c, state] of caseState) {
    const row = rows.get(caseCountry.get(c)!)!;
    row[state] += 1;
  }
  const countries = [...rows.values()].sort((a, b) => (a.country < b.country ? -1 : 1));
  const totals = emptyRow('');
  for (const row of countries) {
    for (const key of [
      'received',
      'notConsidered',
      'rejected',
      'eligible',
      'narrowed',
      'declined',
      'fulfilled',
      'pending',
      'accountsSpecified',
      'accountsAffected',
    ] as const) {
      totals[key] += row[key];
    }
    for (const [r, n] of Object.entries(row.rejectedByReason)) bump(totals.rejectedByReason, r, n);
    for (const [c, n] of Object.entries(row.categoriesDisclosed)) bump(totals.categoriesDisclosed, c, n);
  }
  const { country: _none, ...rest } = totals;
  const instruments = Object.fromEntries(Object.entries(byInstrument).sort(([a], [b]) => (a < b ? -1 : 1)));
  moderation.suspendedByReason = Object.fromEntries(
    Object.entries(moderation.suspendedByReason).sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  return {
    period,
    policy,
    byInstrument: instruments,
    countries,
    totals: rest,
    logSize: leaves.length,
    moderation,
  };
}

/** The report as CSV: one line per country, then the totals. */
export function reportCsv(report: TransparencyReport): string {
  const reasons = [...new Set(report.countries.flatMap((r) => Object.keys(r.rejectedByReason)))].sort();
  const header = [
    'country',
    'received',
    'not_considered',
    'rejected',
    ...reasons.map((r) => `rejected_${r}`),
    'eligible',
    'narrowed',
    'declined',
    'fulfilled',
    'pending',
    'accounts_specified',
    'accounts_affected',
    'disclosed_phone_number',
    'disclosed_ip_addresses',
  ];
  const line = (country: string, r: Omit<CountryRow, 'country'>) =>
    [
      country,
      r.received,
      r.notConsidered,
      r.rejected,
      ...reasons.map((x) => r.rejectedByReason[x] ?? 0),
      r.eligible,
      r.narrowed,
      r.declined,
      r.fulfilled,
      r.pending,
      r.accountsSpecified,
      r.accountsAffected,
      r.categoriesDisclosed.phone_number ?? 0,
      r.categoriesDisclosed.ip_addresses ?? 0,
    ].join(',');
  return (
    [header.join(','), ...report.countries.map((r) => line(r.country, r)), line('TOTAL', report.totals)].join(
      '\n',
    ) + '\n'
  );
}

/** One period in the public list: its name and the figures its chart draws. */
export interface PeriodSummary {
  period: string;
  policyVersion: string | null;
  received: number;
  notConsidered: number;
  rejected: number;
  declined: number;
  fulfilled: number;
  pending: number;
  accountsAffected: number;
  /** Accounts suspended, and suspensions lifted, by two moderators in the period. */
  suspended: number;
  lifted: number;
}

/**
 * Every half-year period (`2026-H1`, `2026-H2`) from the one in which the log recorded its first
 * policy (when the disclosure policy took effect on this service) up to the one holding `now`, in
 * order, each with its report's totals. No policy leaf yet: just the current period.
 */
export function reportPeriods(leaves: readonly PublicLeaf[], now: number): PeriodSummary[] {
  const firstPolicy = leaves.find((l) => l.type === 'policy');
  const first = Math.min(firstPolicy?.at ?? now, now);
  const start = new Date(first);
  const end = new Date(now);
  const periods: PeriodSummary[] = [];
  let year = start.getUTCFullYear();
  let half = start.getUTCMonth() < 6 ? 1 : 2;
  const lastYear = end.getUTCFullYear();
  const lastHalf = end.getUTCMonth() < 6 ? 1 : 2;
  while (year < lastYear || (year === lastYear && half <= lastHalf)) {
    const report = computeReport(leaves, `${year}-H${half}`);
    const t = report.totals;
    periods.push({
      period: report.period,
      policyVersion: report.policy?.version ?? null,
      received: t.received,
      notConsidered: t.notConsidered,
      rejected: t.rejected,
      declined: t.declined,
      fulfilled: t.fulfilled,
      pending: t.pending,
      accountsAffected: t.accountsAffected,
      suspended: report.moderation.suspended,
      lifted: report.moderation.lifted,
    });
    if (half === 2) {
      year += 1;
      half = 1;
    } else half = 2;
  }
  return periods;
}
