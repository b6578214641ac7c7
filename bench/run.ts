/**
 * npm run bench [-- floor|w1|w2|w3|mls|mls-group|media|web|cli|e2e|history|blocking|scaled-faults|channel|all] [--members N] [--pairs N]
 *   channel: [--channel-subscribers N (10,000)] [--posts N (20)] [--verify-signatures] [--decode-every-frame] [--no-floor]
 *                [--messages N] [--connections N] [--per-commit N] [--runs N] [--storage sqlite|postgres]
 *                [--no-floor] [--decode-every-frame (w2, channel)]
 * `floor` runs the W1–W3 shapes against a bare `ws` relay (bench/floor-server.ts) only. W1–W3 run
 * each of their runs right after a floor run of the same shape (unless --no-floor) and print, besides
 * their figures, the ratios to the floor of the same run (median over runs: `*_vs_floor`).
 * `all` runs W1–W3; `mls` (packages/mls alone at 2, 1,000 and 5,000 members, no server) and
 * `mls-group` (a 5,000-member MLS group through the server) run when named.
 * `history [--messages N]` (when named) opens a chat of 10 and of N messages in each device store.
 * `blocking` (also in `all`) measures reconnects past a censor in network namespaces (root only).
 * `mls-soak [--histories N] [--seconds S] [--max-ops N] [--seed N]` (run when named) searches random MLS
 * group histories for failures; it exits 1 when it found any.
 * `cli [--runs N]` (when named) times the `courier` command: `--help` and a `send` to an existing chat,
 * process start to exit, with a bare `node -e ''` as the floor (medians of 7 runs unless --runs).
 * `web [--chats N] [--messages N] [--navigations N] [--live N]` (when named) measures the messenger in
 * Chromium: a backlog of --messages received while offline, chat list with N chats, opening a chat
 * with --messages stored messages (medians over --navigations fresh navigations, default 3), the
 * JavaScript the first load transfers (the page's and the worker's apart), and --live messages
 * received online with the chat open.
 * `scaled-faults` (when named; --messages, --outage-ms) runs three server processes on a private
 * PostgreSQL and NATS through kill -9, a NATS restart and a PostgreSQL outage.
 * `media [--size 1GB] [--request-bytes 8388608]` (run when named) uploads and downloads one encrypted
 * file through the SDK (tus requests of --request-bytes, default the SDK's), then its floor;
 * `media --proof [--size 300MB]` is issue 14's proof: an upload cut in the middle resumes (bytes sent
 * twice printed), another member downloads, the SHA-256 of both sides are compared.
 * `e2e [--pairs N] [--messages N] [--members N] [--burst K] [--per-commit N] [--latency-messages N]
 * [--workers W] [--join-concurrency K]` (run when named): real
 * SecureClients (MLS, SQLite device stores) in 1:1 pairs and in one group (default 1,000 members, all
 * joining from their Welcomes): messages per second delivered and decrypted, send → decrypted latency,
 * time until every member joined and until the last member decrypted a group message. No targets.
 * Prints one JSON object per figure on stdout (../shared/BENCH.md); progress goes to stderr.
 * Each workload gets a fresh server process and database; this process is the load client.
 */
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { BenchServer, type BenchStorage } from './bench-server.ts';
import { BLOCKING_DEFAULTS, runBlocking } from './blocking.ts';
import { CHANNEL_DEFAULTS, CHANNEL_FIGURES, runChannel } from './channel.ts';
import { CLI_DEFAULTS, runCliBench } from './cli.ts';
import { E2E_DEFAULTS, E2E_FIGURES, runE2e } from './e2e.ts';
import { HISTORY_DEFAULTS, runHistoryBench } from './history.ts';
import { type Figure, progress, round } from './figure.ts';
import { median } from './server-proc.ts';
import { MEDIA_DEFAULTS, parseSize, runMediaBench } from './media.ts';
import { MEDIA_PROOF_DEFAULTS, runMediaProofBench } from './media-proof.ts';
import { MLS_SIZES, runMlsBench } from './mls.ts';
import { MLS_GROUP_DEFAULTS, runMlsGroup } from './mls-group.ts';
import { MLS_SOAK_DEFAULTS, runMlsSoak } from './mls-soak.ts';
import { runScaledFaultsBench, SCALED_FAULTS_DEFAULTS } from './scaled-faults.ts';
import { CourierTarget, FloorTarget, type Target } from './target.ts';
import { runTransparencyBench, TRANSPARENCY_SIZES } from './transparency.ts';
import { runW1, W1_DEFAULTS } from './w1.ts';
import { runWeb, WEB_DEFAULTS } from './web.ts';
import { ensureWebBuilt } from '../scripts/build-web.ts';
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
    'request-bytes': { type: 'string' },
    proof: { type: 'boolean', default: false },
    chats: { type: 'string' },
    navigations: { type: 'string' },
    live: { type: 'string' },
    burst: { type: 'string' },
    'latency-messages': { type: 'string' },
    workers: { type: 'string' },
    'join-concurrency': { type: 'string' },
    'no-floor': { type: 'boolean', default: false },
    'channel-subscribers': { type: 'string' },
    posts: { type: 'string' },
    'verify-signatures': { type: 'boolean', default: false },
    'decode-every-frame': { type: 'boolean', default: false },
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

/** A ratio printed on a W line: Courier's `figure` over the floor's in the same run. */
interface Ratio {
  name: string;
  figure: string;
}

const printLine = (line: Figure) => process.stdout.write(`${JSON.stringify(line)}\n`);

/** The median of each figure over runs (with min and max when there were several). */
function medians(results: Figure[][]): Figure[] {
  const lines: Figure[] = [];
  for (const [i, first] of results[0]!.entries()) {
    const values = results.map((r) => r[i]?.value).filter((v): v is number => typeof v === 'number');
    lines.push(
      values.length === 0
        ? first
        : {
            ...first,
            value: median(values),
            ...(results.length > 1
              ? { runs: results.length, min: Math.min(...values), max: Math.max(...values) }
              : {}),
          },
    );
  }
  return lines;
}

/** One run of a workload on a fresh target; a failure becomes null figures with the error. */
async function runOn(
  start: () => Promise<Target & { stop(): Promise<void> }>,
  work: (target: Target) => Promise<Figure[]>,
  bench: string,
  figures: string[],
  storageName: string,
): Promise<Figure[]> {
  let target: (Target & { stop(): Promise<void> }) | undefined;
  try {
    target = await start();
    return await work(target);
  } catch (error) {
    progress(`${bench} failed: ${(error as Error).stack ?? error}`);
    return figures.map((figure) => ({
      bench,
      figure,
      value: null,
      unit: '',
      params: {},
      storage: storageName,
      error: String((error as Error).message ?? error),
    }));
  } finally {
    await target?.stop();
  }
}

async function startCourier(): Promise<Target & { stop(): Promise<void> }> {
  const server = await BenchServer.start(storage, await freePort());
  const target = new CourierTarget(server, storage);
  return Object.assign(target, { stop: () => server.stop() });
}

/** A workload that needs a Courier server of its own (no floor): `runs` times, medians printed. */
async function onCourierServer(
  bench: string,
  work: (server: BenchServer) => Promise<Figure[]>,
  figures: string[],
): Promise<void> {
  const results: Figure[][] = [];
  for (let r = 0; r < runs; r++) {
    progress(`${bench}: run ${r + 1} of ${runs} (${storage})`);
    let server: BenchServer | undefined;
    results.push(
      await runOn(
        async () => {
          server = await BenchServer.start(storage, await freePort());
          return Object.assign(new CourierTarget(server, storage), { stop: () => server!.stop() });
        },
        () => work(server!),
        bench,
        figures,
        storage,
      ),
    );
  }
  medians(results).forEach(printLine);
}

/**
 * Runs a W workload `runs` times, each run right after a floor run of the same shape (the two see
 * the same machine), and prints the floor's medians, Courier's, and the median of the per-run
 * ratios. `mode`: paired with the floor, Courier alone (--no-floor), or the floor alone.
 */
async function measure(
  name: string,
  work: (target: Target, bench: string) => Promise<Figure[]>,
  figures: string[],
  ratios: Ratio[],
  mode: 'paired' | 'courier' | 'floor',
) {
  const bench = name.split(' ')[0]!;
  const floorRuns: Figure[][] = [];
  const courierRuns: Figure[][] = [];
  const ratioRuns: Figure[][] = [];
  const floorFigures = figures.filter((f) => f !== 'join_s');
  for (let r = 0; r < runs; r++) {
    let floor: Figure[] | undefined;
    if (mode !== 'courier') {
      progress(`${name} floor: run ${r + 1} of ${runs}`);
      floor = (
        await runOn(
          async () => FloorTarget.start(await freePort()),
          (t) => work(t, 'floor'),
          'floor',
          floorFigures,
          'none',
        )
      ).map(({ target: _target, ...line }) => ({ ...line, params: { workload: bench, ...line.params } }));
      floorRuns.push(floor);
    }
    if (mode === 'floor') continue;
    progress(`${name}: run ${r + 1} of ${runs} (${storage})`);
    const courier = await runOn(startCourier, (t) => work(t, bench), bench, figures, storage);
    courierRuns.push(courier);
    if (floor) {
      const value = (lines: Figure[], figure: string) => lines.find((l) => l.figure === figure)?.value;
      const params = courier.find((l) => l.figure === ratios[0]?.figure)?.params ?? {};
      ratioRuns.push(
        ratios.map(({ name: figure, figure: of }) => {
          const ours = value(courier, of);
          const base = value(floor, of);
          const measured = typeof ours === 'number' && typeof base === 'number' && base > 0;
          return {
            bench,
            figure,
            value: measured ? round(ours / base, 2) : null,
            unit: 'x',
            params: { ...params, of },
            storage,
            ...(measured ? {} : { error: `${of} was not measured on both servers` }),
          };
        }),
      );
    }
  }
  if (floorRuns.length > 0) medians(floorRuns).forEach(printLine);
  if (courierRuns.length > 0) medians(courierRuns).forEach(printLine);
  if (ratioRuns.length > 0) medians(ratioRuns).forEach(printLine);
}

const delivery = which === 'w1' || which === 'w2' || which === 'w3' || which === 'all' || which === 'floor';
const mode = which === 'floor' ? 'floor' : values['no-floor'] ? 'courier' : 'paired';
if (delivery && (which === 'w1' || which === 'all' || which === 'floor')) {
  const params = {
    pairs: num(values.pairs, W1_DEFAULTS.pairs),
    warmup: num(values.warmup, W1_DEFAULTS.warmup),
    messages: num(values.messages, W1_DEFAULTS.messages),
    size: W1_DEFAULTS.size,
  };
  await measure(
    'w1',
    (t, bench) => runW1(t, params, bench),
    ['delivered_msg_per_s', 'latency_p50_ms', 'latency_p99_ms', 'server_cpu_us_per_msg'],
    [
      { name: 'server_cpu_vs_floor', figure: 'server_cpu_us_per_msg' },
      { name: 'msg_per_s_vs_floor', figure: 'delivered_msg_per_s' },
      { name: 'latency_p99_vs_floor', figure: 'latency_p99_ms' },
    ],
    mode,
  );
}
if (delivery && (which === 'w2' || which === 'all' || which === 'floor')) {
  const sizes = values.members === undefined ? [1000, 5000] : [Number(values.members)];
  for (const members of sizes) {
    const params = {
      ...W2_DEFAULTS,
      members,
      messages: num(values.messages, W2_DEFAULTS.messages),
      // Both load clients decode each distinct frame once, as the channel bench's (bench/decode-once.ts).
      decodeOnce: values['decode-every-frame'] !== true,
    };
    await measure(
      `w2 (${members} members)`,
      (t, bench) => runW2(t, params, bench),
      [
        'last_recipient_p50_ms',
        'last_recipient_p99_ms',
        'deliveries_per_s',
        'server_cpu_us_per_delivery',
        'join_s',
      ],
      [
        { name: 'last_recipient_p99_vs_floor', figure: 'last_recipient_p99_ms' },
        { name: 'server_cpu_vs_floor', figure: 'server_cpu_us_per_delivery' },
      ],
      mode,
    );
  }
}
if (delivery && (which === 'w3' || which === 'all' || which === 'floor')) {
  const params = {
    connections: num(values.connections, W3_DEFAULTS.connections),
    idleSeconds: num(values.idle, W3_DEFAULTS.idleSeconds),
  };
  await measure(
    'w3',
    (t, bench) => runW3(t, params, bench),
    ['server_kib_per_conn', 'connects_per_s'],
    [{ name: 'kib_per_conn_vs_floor', figure: 'server_kib_per_conn' }],
    mode,
  );
}
if (which === 'mls') {
  await runMlsBench(values.members === undefined ? MLS_SIZES : [Number(values.members)], runs);
}
if (which === 'mls-group') {
  const params = {
    members: num(values.members, MLS_GROUP_DEFAULTS.members),
    perCommit: num(values['per-commit'], MLS_GROUP_DEFAULTS.perCommit),
  };
  const results: Figure[][] = [];
  for (let r = 0; r < runs; r++) {
    progress(`mls-group (${params.members} members): run ${r + 1} of ${runs} (${storage})`);
    let server: BenchServer | undefined;
    results.push(
      await runOn(
        async () => {
          server = await BenchServer.start(storage, await freePort());
          return Object.assign(new CourierTarget(server, storage), { stop: () => server!.stop() });
        },
        async () => {
          const users = await server!.register(params.members);
          const result = await runMlsGroup(server!.url, users, params);
          return result.figures.map((f) => ({ ...f, storage }));
        },
        'mls-group',
        [
          'create_and_add_s',
          'joiner_caught_up_s',
          'message_to_joiner_s',
          'remove_commit_s',
          'process_remove_s',
        ],
        storage,
      ),
    );
  }
  medians(results).forEach(printLine);
}
let channelFailed = false;
if (which === 'channel') {
  const params = {
    ...CHANNEL_DEFAULTS,
    subscribers: num(values['channel-subscribers'], CHANNEL_DEFAULTS.subscribers),
    posts: num(values.posts, CHANNEL_DEFAULTS.posts),
    verify: values['verify-signatures'] === true,
    decodeOnce: values['decode-every-frame'] !== true,
  };
  const ours: Figure[][] = [];
  const floors: Figure[][] = [];
  for (let r = 0; r < runs; r++) {
    progress(`channel (${params.subscribers} subscribers): run ${r + 1} of ${runs} (${storage})`);
    let server: BenchServer | undefined;
    ours.push(
      await runOn(
        async () => {
          server = await BenchServer.start(storage, await freePort());
          return Object.assign(new CourierTarget(server, storage), { stop: () => server!.stop() });
        },
        () => runChannel(server!, storage, params),
        'channel',
        CHANNEL_FIGURES,
        storage,
      ),
    );
    // The W2 floor at the same size, in the same run: a bare relay fanning out to as many members.
    if (!values['no-floor']) {
      floors.push(
        await runOn(
          async () => FloorTarget.start(await freePort()),
          (t) =>
            runW2(
              t,
              {
                ...W2_DEFAULTS,
                members: params.subscribers + 1,
                messages: params.posts,
                rate: params.rate,
                // The load client shaped as the channel bench's (bench/decode-once.ts).
                decodeOnce: params.decodeOnce,
              },
              'channel-w2-floor',
            ),
          'channel-w2-floor',
          [
            'last_recipient_p50_ms',
            'last_recipient_p99_ms',
            'deliveries_per_s',
            'server_cpu_us_per_delivery',
          ],
          'none',
        ),
      );
    }
  }
  const channelLines = medians(ours);
  channelLines.forEach(printLine);
  // A subscriber that missed a post (or had one twice) fails the run, not just its figures.
  channelFailed = ours.some((run) => run.some((line) => line.error !== undefined));
  if (floors.length > 0) {
    const floorLines = medians(floors);
    floorLines.forEach(printLine);
    const value = (lines: Figure[], figure: string) => lines.find((l) => l.figure === figure)?.value;
    for (const [figure, of, base] of [
      ['last_subscriber_p99_vs_floor', 'last_subscriber_p99_ms', 'last_recipient_p99_ms'],
      ['server_cpu_vs_floor', 'server_cpu_us_per_delivery', 'server_cpu_us_per_delivery'],
    ] as const) {
      const a = value(channelLines, of);
      const b = value(floorLines, base);
      const measured = typeof a === 'number' && typeof b === 'number' && b > 0;
      printLine({
        bench: 'channel',
        figure,
        value: measured ? round(a / b, 2) : null,
        unit: 'x',
        params: { ...params, of },
        ...(figure.startsWith('last') ? { target: '<= 1.5' } : {}),
        storage,
        ...(measured ? {} : { error: `${of} was not measured on both servers` }),
      });
    }
  }
}
if (which === 'media' && values.proof) {
  const params = { size: values.size === undefined ? MEDIA_PROOF_DEFAULTS.size : parseSize(values.size) };
  await onCourierServer('media', (s) => runMediaProofBench(s, params, storage), [
    'proof_drops',
    'proof_bytes_sent_twice',
    'proof_bytes_identical',
    'proof_upload_mb_per_s',
    'proof_download_mb_per_s',
    'proof_client_rss_growth_mb',
  ]);
} else if (which === 'media') {
  const params = {
    size: values.size === undefined ? MEDIA_DEFAULTS.size : parseSize(values.size),
    requestBytes:
      values['request-bytes'] === undefined
        ? MEDIA_DEFAULTS.requestBytes
        : parseSize(values['request-bytes']),
  };
  await onCourierServer('media', (s) => runMediaBench(s, params, storage), [
    'upload_mb_per_s',
    'download_mb_per_s',
    'server_rss_growth_mb',
    'seek_first_bytes_ms',
    'cipher_only_mb_per_s',
    'upload_client_cpu_ms_per_mb',
    'upload_server_cpu_ms_per_mb',
    'download_client_cpu_ms_per_mb',
    'download_server_cpu_ms_per_mb',
    'floor_upload_mb_per_s',
    'floor_download_mb_per_s',
    'upload_vs_floor',
    'download_vs_floor',
    'floor_upload_client_cpu_ms_per_mb',
    'floor_upload_server_cpu_ms_per_mb',
    'floor_download_client_cpu_ms_per_mb',
    'floor_download_server_cpu_ms_per_mb',
    'raw_crypto_cpu_ms_per_mb',
  ]);
}
if (which === 'e2e') {
  const params = {
    ...E2E_DEFAULTS,
    pairs: num(values.pairs, E2E_DEFAULTS.pairs),
    messages: num(values.messages, E2E_DEFAULTS.messages),
    members: num(values.members, E2E_DEFAULTS.members),
    burst: num(values.burst, E2E_DEFAULTS.burst),
    perCommit: num(values['per-commit'], E2E_DEFAULTS.perCommit),
    latencyMessages: num(values['latency-messages'], E2E_DEFAULTS.latencyMessages),
    workers: num(values.workers, E2E_DEFAULTS.workers),
    joinConcurrency: num(values['join-concurrency'], E2E_DEFAULTS.joinConcurrency),
  };
  await onCourierServer('e2e', async (s) => (await runE2e(s, params, storage)).figures, [...E2E_FIGURES]);
}
if (which === 'web') {
  const params = {
    chats: num(values.chats, WEB_DEFAULTS.chats),
    messages: num(values.messages, WEB_DEFAULTS.messages),
    navigations: num(values.navigations, WEB_DEFAULTS.navigations),
    live: num(values.live, WEB_DEFAULTS.live),
  };
  // Built before the server starts: it reads the app's files once, when it starts.
  await ensureWebBuilt({ quiet: true });
  await onCourierServer('web', (s) => runWeb(s, params, storage), [
    'catch_up_msg_per_s',
    'chat_list_ms',
    'open_chat_ms',
    'first_load_js_gzip_kb',
    'worker_js_gzip_kb',
    'live_msg_per_s',
  ]);
}
if (which === 'cli') {
  // The `courier` command as a person runs it, against a server of its own (bench/cli.ts); the runs
  // are the command's (interleaved with the floor), on one server.
  const params = { runs: values.runs === '1' ? CLI_DEFAULTS.runs : runs };
  progress(`cli: ${params.runs} runs (${storage})`);
  let server: BenchServer | undefined;
  const lines = await runOn(
    async () => {
      server = await BenchServer.start(storage, await freePort());
      return Object.assign(new CourierTarget(server, storage), { stop: () => server!.stop() });
    },
    () => runCliBench(server!, params, storage),
    'cli',
    [
      'node_start_ms',
      'help_ms',
      'send_ms',
      'server_help_ms',
      'help_vs_floor',
      'send_vs_floor',
      'server_help_vs_floor',
    ],
    storage,
  );
  lines.forEach(printLine);
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
process.exit(failed || channelFailed ? 1 : 0);
