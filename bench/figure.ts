/** One measured figure: printed as one JSON line (../shared/BENCH.md). */
export interface Figure {
  bench: string;
  figure: string;
  value: number | null;
  unit: string;
  params: Record<string, unknown>;
  storage: string;
  target?: string;
  error?: string;
  runs?: number;
  min?: number;
  max?: number;
  /** The 1-minute load average when the figure was taken (the machine is shared). */
  load?: number;
}

export const progress = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

export const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;
