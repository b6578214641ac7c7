/**
 * npm run bench [-- w1|w2|w3|mls|mls-group|media|blocking|scaled-faults|all] [--members N] [--pairs N] [--messages N]
 *                [--connections N] [--per-commit N] [--runs N] [--storage sqlite|postgres]
 * `all` runs W1–W3; `mls` (packages/mls alone at 2, 1,000 and 5,000 members, no server) and
 * `mls-group` (a 5,000-member MLS group through the server) run when named.
 * `history [--messages N]` (when named) opens a chat of 10 and of N messages in each device store.
 * `blocking` (also in `all`) measures reconnects past a censor in network namespaces (root only).
 * `mls-soak [--histories N] [--seconds S] [--max-ops N] [--seed N]` (run when named) searches random MLS
 * group histories for failures; it exits 1 when it found any.
 * `web [--chats N] [--messages N]` (when named) measures the messenger in Chromium: chat list with N chats,
 * opening a chat with --messages stored messages, and the JavaScript the first load transfers.
 * `scaled-faults` (when named; --messages, --outage-ms) runs three server processes on a private
 * PostgreSQL and NATS through kill -9, a NATS restart and a PostgreSQL outage.
 * `media [--size 1GB]` (run when named) uploads and downloads one encrypted file through the SDK.
 * Prints one JSON object per figure on stdout (../shared/BENCH.md); progress goes to stderr.
 * Each workload gets a fresh server process and database; this process is the load client.
 */
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { BenchServer, type BenchStorage } from './bench-server.ts';
import { BLOCKING_DEFAULTS, runBlocking } from './blocking.ts';
import { HISTORY_DEFAULTS, runHistoryBench } from './history.ts';
import { type Figure, progress } from './figure.ts';
import { median } from './server-proc.ts';
import { MEDIA_DEFAULTS, parseSize, runMediaBench } from './media.ts';
import { MLS_SIZES, runMlsBench } from './mls.ts';
import { MLS_GROUP_DEFAULTS, runMlsGroup } from './mls-group.ts';
import { MLS_SOAK_DEFAULTS, runMlsSoak } from './mls-soak.ts';
import { runScaledFaultsBench, SCALED_FAULTS_DEFAULTS } from './scaled-faults.ts';
import { runTransparencyBench, TRANSPARENCY_SIZES } from './transparency.ts';
import { runW1, W1_DEFAULTS } from './w1.ts';
import { runWeb, WEB_DEFAULTS } from './web.ts';
import { runW2, W2_DEFAULTS } from './w2.ts';
import { runW3, W3_DEFAULTS } from './w3.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    members: { type: 'string' },
    pairs: { type: 'string' },
    messages: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    idle: { type: 'string' },
    runs: { type: 'string', default: '1' },
    storage: { type: 'string', default: 'sqlite' },
    'per-commit': { type: 'string' },
    histories: { type: 'string' },
    seconds: { type: 'string' },
    'max-ops': { type: 'string' },
    seed: { type: 'string' },
    'outage-ms': { type: 'string' },
    size: { type: 'string' },
    chats: { type: 'string' },
  },
});
const which = positionals[0] ?? 'all';
const storage = values.storage as BenchStorage;
const runs = Number(values.runs);
const num = (v: string | undefined, fallback: number) => (v === undefined ? fallback : Number(v));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Runs a workload `runs` times on fresh servers and prints each figure (median over runs). */
async function measure(name: string, work: (server: BenchServer) => Promise<Figure[]>, figures: string[]) {
  const results: Figure[][] = [];
  for (let r = 0; r < runs; r++) {
    progress(`${name}: run ${r + 1} of ${runs} (${storage})`);
    let server: BenchServer | undefined;
    try {
      server = await BenchServer.start(storage, await freePort());
      results.push(await work(server));
    } catch (error) {
      progress(`${name} failed: ${(error as Error).stack ?? error}`);
      results.push(
        figures.map((figure) => ({
          bench: name.split(' ')[0]!,
          figure,
          value: null,
          unit: '',
          params: {},
          storage,
          error: String((error as Error).message ?? error),
        })),
      );
    } finally {
      await server?.stop();
    }
  }
  for (const [i, first] of results[0]!.entries()) {
    const values = results.map((r) => r[i]?.value).filter((v): v is number => typeof v === 'number');
    const line: Figure =
      values.length === 0
        ? first
        : {
            ...first,
            value: median(values),
            ...(runs > 1 ? { runs, min: Math.min(...values), max: Math.max(...values) } : {}),
          };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

if (which === 'w1' || which === 'all') {
  const params = {
    pairs: num(values.pairs, W1_DEFAULTS.pairs),
    warmup: num(values.warmup, W1_DEFAULTS.warmup),
    messages: num(values.messages, W1_DEFAULTS.messages),
    size: W1_DEFAULTS.size,
  };
  await measure('w1', (s) => runW1(s, params, storage), [
    'delivered_msg_per_s',
    'latency_p50_ms',
    'latency_p99_ms',
    'server_cpu_us_per_msg',
  ]);
}
if (which === 'w2' || which === 'all') {
  const sizes = values.members === undefined ? [1000, 5000] : [Number(values.members)];
  for (const members of sizes) {
    const params = { ...W2_DEFAULTS, members, messages: num(values.messages, W2_DEFAULTS.messages) };
    await measure(`w2 (${members} members)`, (s) => runW2(s, params, storage), [
      'last_recipient_p50_ms',
      'last_recipient_p99_ms',
      'deliveries_per_s',
      'server_cpu_us_per_delivery',
      'join_s',
    ]);
  }
}
if (which === 'w3' || which === 'all') {
  const params = {
    connections: num(values.connections, W3_DEFAULTS.connections),
    idleSeconds: num(values.idle, W3_DEFAULTS.idleSeconds),
  };
  await measure('w3', (s) => runW3(s, params, storage), ['server_kib_per_conn', 'connects_per_s']);
}
if (which === 'mls') {
  await runMlsBench(values.members === undefined ? MLS_SIZES : [Number(values.members)], runs);
}
if (which === 'mls-group') {
  const params = {
    members: num(values.members, MLS_GROUP_DEFAULTS.members),
    perCommit: num(values['per-commit'], MLS_GROUP_DEFAULTS.perCommit),
  };
  await measure(
    `mls-group (${params.members} members)`,
    async (s) => {
      const users = await s.register(params.members);
      const result = await runMlsGroup(s.url, users, params);
      return result.figures.map((f) => ({ ...f, storage }));
    },
    ['create_and_add_s', 'joiner_caught_up_s', 'message_to_joiner_s', 'remove_commit_s', 'process_remove_s'],
  );
}
if (which === 'media') {
  const params = { size: values.size === undefined ? MEDIA_DEFAULTS.size : parseSize(values.size) };
  await measure('media', (s) => runMediaBench(s, params, storage), [
    'upload_mb_per_s',
    'download_mb_per_s',
    'server_rss_growth_mb',
    'seek_first_bytes_ms',
    'cipher_only_mb_per_s',
  ]);
}
if (which === 'web') {
  const params = {
    chats: num(values.chats, WEB_DEFAULTS.chats),
    messages: num(values.messages, WEB_DEFAULTS.messages),
  };
  await measure('web', (s) => runWeb(s, params, storage), [
    'chat_list_ms',
    'open_chat_ms',
    'first_load_js_gzip_kb',
    'worker_js_gzip_kb',
  ]);
}
if (which === 'history') {
  // In-process: opening a chat of 10 and of --messages (default 100,000) messages in each device store.
  for (const figure of await runHistoryBench(num(values.messages, HISTORY_DEFAULTS.messages)))
    process.stdout.write(`${JSON.stringify(figure)}\n`);
}
if (which === 'transparency' || which === 'all') {
  // In-process: the legal log's append and start-up check at two log sizes (--members sets one size).
  const sizes = values.members === undefined ? TRANSPARENCY_SIZES : [Number(values.members)];
  for (const figure of await runTransparencyBench(sizes)) process.stdout.write(`${JSON.stringify(figure)}\n`);
}
if (which === 'blocking' || which === 'all') {
  // Its own core and relays in network namespaces (root only); one figure line each.
  const params = { ...BLOCKING_DEFAULTS, runs: values.runs === '1' ? BLOCKING_DEFAULTS.runs : runs };
  for (const figure of await runBlocking(params)) process.stdout.write(`${JSON.stringify(figure)}\n`);
}
let failed = false;
if (which === 'mls-soak') {
  const soak = await runMlsSoak({
    histories: num(values.histories, MLS_SOAK_DEFAULTS.histories),
    seconds: num(values.seconds, MLS_SOAK_DEFAULTS.seconds),
    maxOps: num(values['max-ops'], MLS_SOAK_DEFAULTS.maxOps),
    seed: num(values.seed, Math.floor(Math.random() * 2 ** 31)),
  });
  for (const figure of soak.figures) process.stdout.write(`${JSON.stringify(figure)}\n`);
  failed = soak.failures.length > 0;
}
if (which === 'scaled-faults') {
  // Its own PostgreSQL, NATS and three server processes; one figure line each.
  const params = {
    ...SCALED_FAULTS_DEFAULTS,
    messages: num(values.messages, SCALED_FAULTS_DEFAULTS.messages),
    pgOutageMs: num(values['outage-ms'], SCALED_FAULTS_DEFAULTS.pgOutageMs),
  };
  for (const figure of await runScaledFaultsBench(params))
    process.stdout.write(`${JSON.stringify(figure)}\n`);
}
process.exit(failed ? 1 : 0);
