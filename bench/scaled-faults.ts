import { ScaledCluster } from '../test/support/scaled-cluster.ts';
import { runScaledFaults, type ScenarioOutcome } from '../test/support/scaled-faults-scenario.ts';
import { type Figure, progress, round } from './figure.ts';

export const SCALED_FAULTS_DEFAULTS = {
  nodes: 3,
  messages: 20_000,
  groups: 8,
  membersPerGroup: 3,
  pgOutageMs: 10_000,
  victim: 1,
};

const FIGURES: [figure: string, unit: string, target: string, value: (o: ScenarioOutcome) => number][] = [
  ['node_kill_recovery_s', 's', '', (o) => o.nodeKillRecoveryMs / 1000],
  ['node_restart_ready_s', 's', '', (o) => o.nodeRestartReadyMs / 1000],
  ['nats_restart_recovery_s', 's', '', (o) => o.natsRecoveryMs / 1000],
  ['pg_outage_recovery_s', 's', '', (o) => o.pgRecoveryMs / 1000],
  ['pg_outage_ready_s', 's', '', (o) => o.pgReadyAgainMs / 1000],
  ['accepted_while_pg_down', 'messages', '0', (o) => o.acceptedWhilePgDown],
  ['lost', 'messages', '0', (o) => o.lost],
  ['duplicated', 'messages', '0', (o) => o.duplicated],
  ['out_of_order', 'messages', '0', (o) => o.outOfOrder],
];

/**
 * `npm run bench -- scaled-faults`: three `courier-server` processes on a private PostgreSQL and a
 * private NATS, SDK connections (failover across the three endpoints, MLS-free payloads) sending
 * `messages` messages while a node is killed with SIGKILL and restarted, NATS is restarted and
 * PostgreSQL is stopped for `pgOutageMs`. Prints the recovery times and what was lost, duplicated
 * or out of order:
 * - node_kill_recovery_s: kill -9 → every client that was on that node has a send accepted again;
 * - node_restart_ready_s: the killed node's process started → its /readyz answers 200;
 * - nats_restart_recovery_s: NATS stopped (then started at once) → a message sent after it is back
 *   has reached a member on another node;
 * - pg_outage_recovery_s: PostgreSQL started again → a send is accepted again;
 * - pg_outage_ready_s: PostgreSQL started again → every node's /readyz answers 200.
 */
export async function runScaledFaultsBench(params: typeof SCALED_FAULTS_DEFAULTS): Promise<Figure[]> {
  let outcome: ScenarioOutcome | undefined;
  let error: string | undefined;
  let cluster: ScaledCluster | undefined;
  try {
    progress(`scaled-faults: ${params.nodes} nodes, ${params.messages} messages`);
    cluster = await ScaledCluster.start(params.nodes);
    outcome = await runScaledFaults(cluster, { ...params, progress: (m) => progress(`scaled-faults: ${m}`) });
  } catch (e) {
    error = String((e as Error).message ?? e).slice(0, 2_000);
    progress(`scaled-faults failed: ${(e as Error).stack ?? e}`);
  } finally {
    await cluster?.close();
  }
  const base = {
    bench: 'scaled-faults',
    params: { ...params, ...(outcome ? { messages: outcome.messages, senders: outcome.senders } : {}) },
    storage: 'postgres',
  };
  return FIGURES.map(([figure, unit, target, value]) => {
    const v = outcome ? value(outcome) : Number.NaN;
    return Number.isFinite(v)
      ? { ...base, figure, unit, ...(target ? { target } : {}), value: round(v, 2) }
      : { ...base, figure, unit, ...(target ? { target } : {}), value: null, error: error ?? 'not measured' };
  });
}
