import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));

function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The bench's output contract (../shared/BENCH.md): one JSON object per figure, nothing else. */
describe('npm run bench output', () => {
  it('prints one well-formed JSON line per figure for tiny runs of W1, W2 and W3, each after its floor, with the ratios', async () => {
    const runs = await Promise.all([
      bench(['w1', '--pairs', '3', '--warmup', '6', '--messages', '60']),
      bench(['w2', '--members', '20', '--messages', '5']),
      bench(['w3', '--connections', '30', '--idle', '1']),
    ]);
    const expected = {
      w1: ['delivered_msg_per_s', 'latency_p50_ms', 'latency_p99_ms', 'server_cpu_us_per_msg'],
      w2: [
        'last_recipient_p50_ms',
        'last_recipient_p99_ms',
        'deliveries_per_s',
        'server_cpu_us_per_delivery',
        'join_s',
      ],
      w3: ['server_kib_per_conn', 'connects_per_s'],
    };
    const ratios = {
      w1: [
        ['server_cpu_vs_floor', 'server_cpu_us_per_msg'],
        ['msg_per_s_vs_floor', 'delivered_msg_per_s'],
        ['latency_p99_vs_floor', 'latency_p99_ms'],
      ],
      w2: [
        ['last_recipient_p99_vs_floor', 'last_recipient_p99_ms'],
        ['server_cpu_vs_floor', 'server_cpu_us_per_delivery'],
      ],
      w3: [['kib_per_conn_vs_floor', 'server_kib_per_conn']],
    };
    for (const [i, run] of runs.entries()) {
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const name = (['w1', 'w2', 'w3'] as const)[i]!;
      // The floor has no groups to join, so no join figure.
      const floorFigures = expected[name].filter((f) => f !== 'join_s');
      expect(lines.map((l) => `${l.bench} ${l.figure}`)).toEqual([
        ...floorFigures.map((f) => `floor ${f}`),
        ...expected[name].map((f) => `${name} ${f}`),
        ...ratios[name].map(([r]) => `${name} ${r}`),
      ]);
      const floor = lines.slice(0, floorFigures.length);
      const ours = lines.slice(floorFigures.length, floorFigures.length + expected[name].length);
      const ratioLines = lines.slice(floorFigures.length + expected[name].length);
      for (const line of floor) {
        expect(line).toMatchObject({ storage: 'none', unit: expect.any(String), params: { workload: name } });
        expect(line.target).toBeUndefined();
        expect(typeof line.value, JSON.stringify(line)).toBe('number');
      }
      for (const line of ours) {
        expect(line).toMatchObject({
          storage: 'sqlite',
          unit: expect.any(String),
          params: expect.any(Object),
        });
        expect(typeof line.value, JSON.stringify(line)).toBe('number');
      }
      // Both W2 load clients decode each distinct frame once (bench/decode-once.ts) unless told not to.
      if (name === 'w2')
        for (const line of [...floor, ...ours]) expect(line.params).toMatchObject({ decodeOnce: true });
      for (const [k, line] of ratioLines.entries()) {
        const of = ratios[name][k]![1]!;
        expect(line).toMatchObject({ storage: 'sqlite', unit: 'x', params: { of } });
        const base = floor.find((l) => l.figure === of)!.value;
        const value = ours.find((l) => l.figure === of)!.value;
        // A tiny run can use less CPU than one clock tick: then there is no ratio, and it says why.
        if (base > 0) expect(line.value).toBeCloseTo(value / base, 1);
        else expect(line).toMatchObject({ value: null, error: expect.any(String) });
      }
    }
  }, 180_000);

  it('runs the floor alone with the three shapes', async () => {
    const run = await bench([
      'floor',
      '--pairs',
      '3',
      '--warmup',
      '6',
      '--messages',
      '20',
      '--members',
      '20',
      '--connections',
      '30',
      '--idle',
      '1',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => `${l.params.workload} ${l.figure}`)).toEqual([
      'w1 delivered_msg_per_s',
      'w1 latency_p50_ms',
      'w1 latency_p99_ms',
      'w1 server_cpu_us_per_msg',
      'w2 last_recipient_p50_ms',
      'w2 last_recipient_p99_ms',
      'w2 deliveries_per_s',
      'w2 server_cpu_us_per_delivery',
      'w3 server_kib_per_conn',
      'w3 connects_per_s',
    ]);
    for (const line of lines) {
      expect(line).toMatchObject({ bench: 'floor', storage: 'none' });
      expect(typeof line.value, JSON.stringify(line)).toBe('number');
    }
  }, 120_000);

  it('prints every MLS figure, each a number, for the MLS workload at 2 members', async () => {
    const run = await bench(['mls', '--members', '2']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.figure)).toEqual([
      'create_and_add_s',
      'join_s',
      'first_commit_ms',
      'process_first_commit_ms',
      'populate_s',
      'commit_add_ms',
      'process_add_ms',
      'commit_remove_ms',
      'process_remove_ms',
      'commit_update_ms',
      'process_update_ms',
      'process_update_from_saved_ms',
      'process_update_from_saved_first_ms',
      'encrypt_ms',
      'decrypt_ms',
      'save_after_message_bytes',
      'save_after_message_ms',
      'save_after_commit_bytes',
      'save_after_commit_ms',
      'export_after_message_ms',
      'export_after_commit_ms',
      'state_bytes',
      'state_export_ms',
      'state_import_ms',
    ]);
    for (const line of lines) {
      expect(line).toMatchObject({ bench: 'mls', unit: expect.any(String), params: { members: 2 } });
      expect(typeof line.value, JSON.stringify(line)).toBe('number');
    }
    expect(lines.find((l) => l.figure === 'state_bytes').value).toBeGreaterThan(1000);
    // A save into the SQLite store writes the secret part and the changed pages, never more than the state.
    for (const figure of ['save_after_message_bytes', 'save_after_commit_bytes'])
      expect(lines.find((l) => l.figure === figure).storage).toBe('sqlite');
    expect(lines.find((l) => l.figure === 'save_after_message_bytes').value).toBeLessThanOrEqual(
      lines.find((l) => l.figure === 'state_bytes').value,
    );
  }, 60_000);

  it('prints every MLS soak figure, each a number, for a few histories, and exits 0 when none failed', async () => {
    const run = await bench([
      'mls-soak',
      '--histories',
      '4',
      '--seconds',
      '300',
      '--max-ops',
      '4',
      '--seed',
      '7',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.figure)).toEqual([
      'histories_checked',
      'failures',
      'seconds',
      'histories_per_s',
      'steps_applied',
      'joins',
      'commits_processed',
      'trees_checked',
    ]);
    for (const line of lines) {
      expect(line).toMatchObject({
        bench: 'mls-soak',
        unit: expect.any(String),
        params: { histories: 4, max_ops: 4, seed: 7 },
      });
      expect(typeof line.value, JSON.stringify(line)).toBe('number');
    }
    expect(lines.find((l) => l.figure === 'histories_checked').value).toBe(4);
    expect(lines.find((l) => l.figure === 'failures').value).toBe(0);
  }, 120_000);

  it('prints every scaled-faults figure, each a number, for a tiny run (three nodes through the three faults)', async () => {
    const run = await bench(['scaled-faults', '--messages', '120', '--outage-ms', '2000']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.figure)).toEqual([
      'node_kill_recovery_s',
      'node_restart_ready_s',
      'nats_restart_recovery_s',
      'pg_outage_recovery_s',
      'pg_outage_ready_s',
      'accepted_while_pg_down',
      'lost',
      'duplicated',
      'out_of_order',
    ]);
    for (const line of lines) {
      expect(line).toMatchObject({ bench: 'scaled-faults', storage: 'postgres', unit: expect.any(String) });
      expect(typeof line.value, JSON.stringify(line)).toBe('number');
    }
  }, 300_000);
  it('prints every media figure, each a number, for a tiny encrypted upload and download', async () => {
    const run = await bench(['media', '--size', '3MB']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.figure)).toEqual([
      'upload_mb_per_s',
      'download_mb_per_s',
      'server_rss_growth_mb',
      'seek_first_bytes_ms',
      'cipher_only_mb_per_s',
      'upload_client_cpu_ms_per_mb',
      'upload_server_cpu_ms_per_mb',
      'download_client_cpu_ms_per_mb',
      'download_server_cpu_ms_per_mb',
      // Its floor in the same run: a bare HTTP server taking and serving the same bytes; crypto alone.
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
    for (const line of lines) {
      expect(line).toMatchObject({ bench: 'media', params: { size: 3_000_000 }, unit: expect.any(String) });
      expect(typeof line.value, JSON.stringify(line)).toBe('number');
    }
  }, 120_000);
  it('prints every channel figure for a tiny run: every subscriber had every post once, the floor shaped alike', async () => {
    const run = await bench(['channel', '--channel-subscribers', '20', '--posts', '3']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => `${l.bench} ${l.figure}`)).toEqual([
      'channel last_subscriber_p50_ms',
      'channel last_subscriber_p99_ms',
      'channel deliveries_per_s',
      'channel server_cpu_us_per_delivery',
      'channel post_accepted_p50_ms',
      'channel deliveries',
      'channel http_reads',
      'channel-w2-floor last_recipient_p50_ms',
      'channel-w2-floor last_recipient_p99_ms',
      'channel-w2-floor deliveries_per_s',
      'channel-w2-floor server_cpu_us_per_delivery',
      'channel last_subscriber_p99_vs_floor',
      'channel server_cpu_vs_floor',
    ]);
    expect(lines.find((l) => l.figure === 'deliveries').value).toBe(60);
    // Both load clients decode each distinct frame once (bench/decode-once.ts).
    expect(lines[0].params).toMatchObject({ subscribers: 20, posts: 3, decodeOnce: true });
    expect(lines[7].params).toMatchObject({ members: 21, messages: 3, decodeOnce: true });
    for (const line of lines.slice(0, 11)) expect(typeof line.value, JSON.stringify(line)).toBe('number');
  }, 180_000);
});
