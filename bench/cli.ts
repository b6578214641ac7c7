/**
 * `cli`: how long the `courier` command takes, process start to exit, as a person runs it: the bin
 * (packages/cli/bin/courier.js, what `npx courier` and a global install start) with its build fresh.
 * Figures (medians over --runs, at least 5): `node_start_ms`, the floor (`node -e ''`, a bare Node
 * process on this machine now); `help_ms` (`courier --help`, target ≤ 300 ms); `send_ms` (`courier
 * send` to an existing direct chat, returning once the server stored the message, target ≤ 1,000 ms);
 * `server_help_ms` (`courier-server --help`); and each one's ratio to the floor (`*_vs_floor`).
 * The two profiles are registered, named and given their chat through the CLI first (not measured).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchServer } from './bench-server.ts';
import { type Figure, progress, round } from './figure.ts';
import { median } from './server-proc.ts';

const root = fileURLToPath(new URL('../', import.meta.url));

export const CLI_DEFAULTS = { runs: 7 };

/** Runs a process to its end; its wall time in ms (throws unless it exits 0). */
function timed(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${args.join(' ')} exited ${code}: ${err.trim()}`));
    });
  });
}

export async function runCliBench(
  server: BenchServer,
  params: { runs: number },
  storage: string,
): Promise<Figure[]> {
  const runs = Math.max(5, params.runs);
  const dir = mkdtempSync(join(tmpdir(), 'courier-bench-cli-'));
  const courier = (who: string, ...args: string[]) =>
    timed(['packages/cli/bin/courier.js', '--home', join(dir, who), '--server', server.url, ...args]);
  try {
    // The build is not what is measured: make it fresh first (as `npm install` leaves it).
    await timed(['scripts/command-bundle.js']);
    progress('cli: two profiles, usernames and their direct chat');
    const people = [
      { who: 'alice', phone: '+441234567890', username: 'bench_alice' },
      { who: 'bob', phone: '+12025550143', username: 'bench_bob' },
    ];
    for (const person of people) {
      await courier(person.who, 'register', person.phone, '--request-only');
      const code = await server.code(person.phone);
      await courier(person.who, 'register', person.phone, '--code', code, '--accept-policy');
      await courier(person.who, 'username', 'set', person.username);
    }
    await courier('bob', 'dm', '@bench_alice');
    await courier('bob', 'send', '@bench_alice', 'warm-up');
    const samples = { node_start_ms: [], help_ms: [], send_ms: [], server_help_ms: [] } as Record<
      string,
      number[]
    >;
    // Interleaved, so that each figure and its floor see the same moments of a shared machine.
    for (let r = 0; r < runs; r++) {
      progress(`cli: run ${r + 1} of ${runs}`);
      samples.node_start_ms!.push(await timed(['-e', '']));
      samples.help_ms!.push(await courier('bob', '--help'));
      samples.server_help_ms!.push(await timed(['packages/server/bin/courier-server.js', '--help']));
      samples.send_ms!.push(await courier('bob', 'send', '@bench_alice', `message ${r + 1}`));
    }
    const floor = median(samples.node_start_ms!);
    const figure = (name: string, value: number, unit: string, target?: string): Figure => ({
      bench: 'cli',
      figure: name,
      value: round(value, unit === 'x' ? 2 : 1),
      unit,
      params: { runs },
      storage,
      ...(target ? { target } : {}),
    });
    const targets: Record<string, string> = { help_ms: '<= 300', send_ms: '<= 1000' };
    const lines = Object.entries(samples).map(([name, values]) =>
      figure(name, median(values), 'ms', targets[name]),
    );
    for (const name of ['help_ms', 'send_ms', 'server_help_ms'])
      lines.push(figure(name.replace(/_ms$/, '_vs_floor'), median(samples[name]!) / floor, 'x'));
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
