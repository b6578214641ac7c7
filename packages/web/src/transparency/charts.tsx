/**
 * Charts of requests and their outcomes over the periods, drawn by chart.js on canvases (no eval,
 * no inline style: the page's strict CSP holds). Only the bar chart's parts are registered, so the
 * bundle carries no other chart type. Each canvas says what it draws in its accessible name.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartDataset,
  Legend,
  LinearScale,
  Tooltip,
} from 'chart.js';
import { useEffect, useMemo, useRef } from 'preact/hooks';
import type { PeriodSummary } from './types.ts';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

/** The outcomes a request ends in, in the order they are stacked; they add up to the requests received. */
export const OUTCOMES = [
  { key: 'notConsidered', label: 'Not considered', color: '#6b6b6b' },
  { key: 'rejected', label: 'Rejected', color: '#a30000' },
  { key: 'declined', label: 'Declined after review', color: '#b36b00' },
  { key: 'pending', label: 'Pending', color: '#5b7fa6' },
  { key: 'fulfilled', label: 'Fulfilled', color: '#1f4e79' },
] as const;

/** What the outcome chart shows, in words (its accessible name, and what the tests read). */
export function describeOutcomes(periods: PeriodSummary[]): string {
  return `Requests received per period, by outcome: ${periods
    .map(
      (p) =>
        `${p.period}: ${p.received} received (${OUTCOMES.map((o) => `${p[o.key]} ${o.label.toLowerCase()}`).join(', ')})`,
    )
    .join('; ')}.`;
}

export function describeAccounts(periods: PeriodSummary[]): string {
  return `Accounts whose data was disclosed, per period: ${periods.map((p) => `${p.period}: ${p.accountsAffected}`).join('; ')}.`;
}

function BarChart({
  id,
  label,
  periods,
  datasets,
  stacked,
}: {
  id: string;
  label: string;
  periods: PeriodSummary[];
  datasets: ChartDataset<'bar', number[]>[];
  stacked: boolean;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const chart = new Chart(canvas.current!, {
      type: 'bar',
      data: { labels: periods.map((p) => p.period), datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked },
          y: { stacked, beginAtZero: true, ticks: { precision: 0 } },
        },
        plugins: { legend: { position: 'bottom', display: datasets.length > 1 } },
      },
    });
    return () => chart.destroy();
  }, [periods, datasets, stacked]);
  return (
    <div class="chart">
      <canvas id={id} ref={canvas} role="img" aria-label={label} />
    </div>
  );
}

export function OutcomeChart({ periods }: { periods: PeriodSummary[] }) {
  const datasets = useMemo(
    () =>
      OUTCOMES.map((o) => ({
        label: o.label,
        data: periods.map((p) => p[o.key]),
        backgroundColor: o.color,
      })),
    [periods],
  );
  return (
    <BarChart
      id="chart-outcomes"
      label={describeOutcomes(periods)}
      periods={periods}
      datasets={datasets}
      stacked
    />
  );
}

export function AccountsChart({ periods }: { periods: PeriodSummary[] }) {
  const datasets = useMemo(
    () => [
      {
        label: 'Accounts disclosed',
        data: periods.map((p) => p.accountsAffected),
        backgroundColor: '#1f4e79',
      },
    ],
    [periods],
  );
  return (
    <BarChart
      id="chart-accounts"
      label={describeAccounts(periods)}
      periods={periods}
      datasets={datasets}
      stacked={false}
    />
  );
}

export function describeSuspensions(periods: PeriodSummary[]): string {
  return `Accounts suspended by two moderators, and suspensions lifted, per period: ${periods
    .map((p) => `${p.period}: ${p.suspended} suspended, ${p.lifted} lifted`)
    .join('; ')}.`;
}

export function SuspensionChart({ periods }: { periods: PeriodSummary[] }) {
  const datasets = useMemo(
    () => [
      { label: 'Suspended', data: periods.map((p) => p.suspended), backgroundColor: '#a30000' },
      { label: 'Lifted', data: periods.map((p) => p.lifted), backgroundColor: '#5b7fa6' },
    ],
    [periods],
  );
  return (
    <BarChart
      id="chart-suspensions"
      label={describeSuspensions(periods)}
      periods={periods}
      datasets={datasets}
      stacked={false}
    />
  );
}
