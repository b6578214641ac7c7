import { netnsUnavailableReason } from '../test/support/netns.ts';
import { CensorScenario } from '../test/support/netns-scenario.ts';
import { type Figure, progress, round } from './figure.ts';
import { median } from './server-proc.ts';

export const BLOCKING_DEFAULTS = { runs: 5, messages: 10_000, rollingMessages: 10_000, relays: 12 };

/**
 * `npm run bench -- blocking`: a censor in a network namespace blocks the address a client is on.
 * Reconnect time after a silent DROP and after a TCP RST (p50 and max over `runs`), and what was lost
 * or duplicated under a rolling censor (every 4 s, at least 3 addresses). Needs root (ip netns, iptables).
 */
export async function runBlocking(params: typeof BLOCKING_DEFAULTS): Promise<Figure[]> {
  const base = { bench: 'blocking', params, storage: 'sqlite' };
  const unavailable = netnsUnavailableReason();
  const names: [string, string, string][] = [
    ['reconnect_drop_s', 's', '<= 2'],
    ['reconnect_drop_max_s', 's', '<= 2'],
    ['reconnect_rst_s', 's', '<= 1'],
    ['reconnect_rst_max_s', 's', '<= 1'],
    ['lost', 'messages', '0'],
    ['duplicated', 'messages', '0'],
  ];
  if (unavailable)
    return names.map(([figure, unit, target]) => ({
      ...base,
      figure,
      unit,
      target,
      value: null,
      error: `network namespaces unavailable: ${unavailable}`,
    }));
  const scenario = await CensorScenario.start(params.relays);
  try {
    const alice = await scenario.register();
    const bob = await scenario.register();
    const chat = await alice.http.openDirect(bob.accountId);
    const a = await scenario.device(alice.token);
    const b = await scenario.device(bob.token);
    const times: Record<'drop' | 'reset', number[]> = { drop: [], reset: [] };
    for (const how of ['drop', 'reset'] as const)
      for (let run = 0; run < params.runs; run++) {
        const outcome = await scenario.blockOnce(a, b, chat.groupId, how, params.messages, `${how}${run}`);
        progress(
          `blocking: ${how} of ${outcome.from} → ${outcome.to} in ${outcome.reconnectSeconds.toFixed(2)} s (lost ${outcome.lost}, duplicated ${outcome.duplicated})`,
        );
        times[how].push(outcome.reconnectSeconds);
      }
    const rolling = await scenario.rolling(a, b, chat.groupId, params.rollingMessages, 3);
    progress(
      `blocking: rolling censor blocked ${rolling.blocked.length} addresses over ${rolling.sent} messages`,
    );
    await a.d.connection.stop();
    await b.d.connection.stop();
    const values = [
      median(times.drop),
      Math.max(...times.drop),
      median(times.reset),
      Math.max(...times.reset),
      rolling.lost,
      rolling.duplicated,
    ];
    return names.map(([figure, unit, target], i) => ({
      ...base,
      figure,
      unit,
      target,
      value: round(values[i]!, 2),
      ...(figure === 'lost' || figure === 'duplicated'
        ? { rolling: { sent: rolling.sent, blocked: rolling.blocked.length } }
        : { runs: params.runs }),
    }));
  } finally {
    scenario.close();
  }
}
