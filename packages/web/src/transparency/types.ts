/**
 * The public JSON the page reads (/v1/transparency/periods and /v1/transparency/reports/P.json),
 * typed from @courier/protocol (types only: nothing of the protocol package is bundled).
 */
import type { PeriodSummary, TransparencyReport } from '@courier/protocol';

export type { PeriodSummary, TransparencyReport };

export interface PeriodList {
  current: string;
  periods: PeriodSummary[];
}

/** A report as served: the report, the policy text whose hash it names, and the checkpoint covering it. */
export type PublishedReport = TransparencyReport & { policyText: string | null; checkpoint: string };
