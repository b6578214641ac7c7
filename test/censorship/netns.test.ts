import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netnsUnavailableReason } from '../support/netns.ts';
import { CensorScenario } from '../support/netns-scenario.ts';

// The rolling censor runs over 12 relays: the scenario starts them all as real processes.
const RELAYS = 12;
const unavailable = netnsUnavailableReason();
const isRoot = process.getuid?.() === 0;

if (unavailable)
  console.log(
    `censorship: network namespaces unavailable here (${unavailable}); the in-process censor proxy scenario (failover.test.ts) stands in for them`,
  );

describe('censorship in network namespaces (client / censor / server, iptables)', () => {
  // CI runs as root on this machine: there the namespaces must work, so a failure to make them fails.
  it.runIf(unavailable !== undefined && isRoot)('can make network namespaces when running as root', () => {
    expect(unavailable).toBeUndefined();
  });
  if (unavailable) return;

  let scenario: CensorScenario;
  beforeAll(async () => {
    scenario = await CensorScenario.start(RELAYS);
  }, 120_000);
  afterAll(() => scenario?.close());

  async function blockRuns(how: 'drop' | 'reset', runs: number, count: number) {
    const alice = await scenario.register();
    const bob = await scenario.register();
    const chat = await alice.http.openDirect(bob.accountId);
    const a = await scenario.device(alice.token);
    const b = await scenario.device(bob.token);
    const times: number[] = [];
    for (let run = 0; run < runs; run++) {
      const outcome = await scenario.blockOnce(a, b, chat.groupId, how, count, `${how}${run}`);
      console.log(
        `censorship(netns): ${how} of ${outcome.from} (${scenario.addressOf(outcome.from)}) → back through ${outcome.to} after ${outcome.reconnectSeconds.toFixed(2)} s; ${outcome.sent} messages, lost ${outcome.lost}, duplicated ${outcome.duplicated}`,
      );
      expect(outcome.to).not.toBe(outcome.from);
      expect(outcome).toMatchObject({ sent: count, lost: 0, duplicated: 0 });
      times.push(outcome.reconnectSeconds);
    }
    const sorted = [...times].sort((x, y) => x - y);
    console.log(
      `censorship(netns): reconnect after ${how}: p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} s, max ${sorted.at(-1)!.toFixed(2)} s over ${runs} runs`,
    );
    await a.d.connection.stop();
    await b.d.connection.stop();
  }

  it('DROP of the address in use while 10,000 messages flow: back online through another endpoint, 0 lost, 0 duplicated, in each of 5 runs', async () => {
    await blockRuns('drop', 5, 10_000);
  }, 240_000);

  it('RST of the address in use: back online through another endpoint, 0 lost, 0 duplicated, in each of 3 runs', async () => {
    await blockRuns('reset', 3, 1000);
  }, 240_000);

  it('a rolling censor blocks whatever address the client is on every 4 s (5 % loss on another): 10,000+ messages, 0 lost, 0 duplicated, 3+ addresses blocked', async () => {
    const alice = await scenario.register();
    const bob = await scenario.register();
    const chat = await alice.http.openDirect(bob.accountId);
    const a = await scenario.device(alice.token);
    const b = await scenario.device(bob.token);
    const result = await scenario.rolling(a, b, chat.groupId, 10_000, 3);
    console.log(
      `censorship(netns): rolling censor blocked ${result.blocked.length} addresses (${result.blocked.join(', ')}); ${result.sent} messages, lost ${result.lost}, duplicated ${result.duplicated}`,
    );
    expect(result).toMatchObject({ lost: 0, duplicated: 0 });
    expect(result.sent).toBeGreaterThanOrEqual(10_000);
    expect(result.blocked.length).toBeGreaterThanOrEqual(3);
    await a.d.connection.stop();
    await b.d.connection.stop();
  }, 240_000);
});
