/** One country's figures for a period as a two-column table (measure, count): readable at 360 px. */
import { countryName } from './policy-words.tsx';
import type { TransparencyReport } from './types.ts';

type Row = TransparencyReport['countries'][number];

const pairs = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, v]) => `${k.replaceAll('_', ' ')} ${v}`)
    .join(', ');

export function CountryTable({ row, total = false }: { row: Row; total?: boolean }) {
  const lines: [string, number | string][] = [
    ['Requests received', row.received],
    ['Not considered (country excluded by the policy)', row.notConsidered],
    ['Rejected under the policy', row.rejected],
    ...(row.rejected > 0
      ? ([['Reasons for rejection', pairs(row.rejectedByReason)]] as [string, string][])
      : []),
    ['Eligible for review', row.eligible],
    ['Narrowed to what the policy allows', row.narrowed],
    ['Declined after review', row.declined],
    ['Fulfilled', row.fulfilled],
    ['Pending at the end of the period', row.pending],
    ['Accounts named in requests', row.accountsSpecified],
    ['Accounts whose data was disclosed', row.accountsAffected],
    ['Data disclosed', pairs(row.categoriesDisclosed) || 'none'],
  ];
  return (
    <table class={total ? 'country total' : 'country'} data-country={total ? 'TOTAL' : row.country}>
      <caption>{total ? 'All countries' : countryName(row.country)}</caption>
      <tbody>
        {lines.map(([label, value]) => (
          <tr key={label}>
            <th scope="row">{label}</th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
