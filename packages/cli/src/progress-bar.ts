/** Bytes as a short human figure: 512 B, 12.3 KB, 45.6 MB, 1.2 GB (powers of 1000). */
export function humanBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * A progress bar on standard error: redrawn in place on a terminal, and on anything else (a pipe, a
 * log) one line per tenth, so that scripts see progress without control characters.
 */
export class ProgressBar {
  private lastTenth = -1;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly width = 30,
  ) {}

  update(done: number, total: number): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const text = `${this.label} ${(fraction * 100).toFixed(0).padStart(3)}% ${humanBytes(done)} / ${humanBytes(total)}`;
    if (this.stream.isTTY) {
      const filled = Math.round(fraction * this.width);
      this.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${text}`);
      this.drawn = true;
      return;
    }
    const tenth = Math.floor(fraction * 10);
    if (tenth > this.lastTenth) {
      this.lastTenth = tenth;
      this.stream.write(`${text}\n`);
    }
  }

  finish(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
