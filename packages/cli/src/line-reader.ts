import { createInterface, type Interface } from 'node:readline';

/**
 * Answers typed by the person, one line per question: at the terminal, or from piped standard
 * input (`printf '123456\ny\n' | courier register +44…`). One reader serves every question of a
 * run, so a second question gets the second line rather than losing it in a closed reader.
 */
export class LineReader {
  private rl: Interface | undefined;
  private readonly lines: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private ended = false;

  private open(): Interface {
    if (this.rl) return this.rl;
    const rl = createInterface({
      input: process.stdin,
      output: process.stderr,
      terminal: process.stdin.isTTY,
    });
    rl.on('line', (line) => {
      const waiter = this.waiting;
      this.waiting = undefined;
      if (waiter) waiter(line);
      else this.lines.push(line);
    });
    rl.on('close', () => {
      this.ended = true;
      this.waiting?.(undefined);
      this.waiting = undefined;
    });
    this.rl = rl;
    return rl;
  }

  async ask(question: string): Promise<string> {
    const rl = this.open();
    rl.setPrompt(question);
    rl.prompt();
    const line =
      this.lines.shift() ??
      (this.ended ? undefined : await new Promise<string | undefined>((resolve) => (this.waiting = resolve)));
    if (!process.stdin.isTTY) process.stderr.write('\n');
    if (line === undefined) throw new Error(`No answer on standard input to "${question.trim()}"`);
    return line;
  }

  close(): void {
    this.rl?.close();
    this.rl = undefined;
  }
}
