import { opaqueApplicationMessage } from '@courier/mls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { text } from './support/harness.ts';
import { FrameProbe, ScaledCluster } from './support/scaled-cluster.ts';
import { runScaledFaults } from './support/scaled-faults-scenario.ts';

/**
 * Issue 11: three `courier-server` processes on one (private) PostgreSQL and one (private) NATS,
 * under faults. The full 20,000-message run with its recovery times is `npm run bench --
 * scaled-faults`; this is the same story at a size that fits the suite.
 */
describe('the scaled shape as separate processes, under faults', () => {
  let cluster: ScaledCluster | undefined;

  beforeAll(async () => {
    cluster = await ScaledCluster.start(3);
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
  }, 60_000);

  // Found by this test: an idle pooled connection that PostgreSQL closed was an unhandled 'error'
  // event on the pg Pool, which ended every node the moment the database stopped.
  it('keeps every node running while PostgreSQL is down: a send gets STORAGE_UNAVAILABLE, never "accepted"; all ready again after', async () => {
    const c = cluster!;
    const alice = await c.register(0);
    const bob = await c.register(0);
    const { groupId } = await alice.http.createGroup('outage', [bob.accountId]);
    const payload = (body: string) => opaqueApplicationMessage(groupId, text(body));
    const probe = await FrameProbe.connect(c.nodes[1]!.url, alice.token);
    try {
      expect((await probe.send(groupId, 'outage-before-1', payload('before'))).type).toBe('accepted');
      await c.stopPostgres();
      const answer = await probe.send(groupId, 'outage-during-1', payload('during'));
      expect({ type: answer.type, code: answer.type === 'error' ? answer.code : undefined }).toEqual({
        type: 'error',
        code: 'STORAGE_UNAVAILABLE',
      });
      expect(c.nodes.map((_, i) => c.alive(i))).toEqual([true, true, true]);
      expect(await Promise.all(c.nodes.map((_, i) => c.readyStatus(i)))).toEqual([503, 503, 503]);
      const readiness = (await (await fetch(`${c.nodes[0]!.url}/readyz`)).json()) as {
        error?: { code?: string };
      };
      expect(readiness.error?.code).toBe('STORAGE_UNAVAILABLE');
      await c.startPostgres();
      for (const [i] of c.nodes.entries()) await c.untilReady(i, 60_000);
      // The same client message id again: now stored, once.
      const again = await probe.send(groupId, 'outage-during-1', payload('during'));
      expect(again).toMatchObject({ type: 'accepted', duplicate: false });
    } finally {
      probe.close();
      if (!c.postgresRunning) await c.startPostgres();
    }
  }, 120_000);

  it('loses no accepted message and shows none twice through kill -9 of a node, a NATS restart and 10 s without PostgreSQL (2,000 messages)', async () => {
    const c = cluster!;
    for (const [i] of c.nodes.entries()) if (!c.alive(i)) await c.startNode(i);
    const outcome = await runScaledFaults(c, {
      messages: 2_000,
      groups: 4,
      membersPerGroup: 3,
      pgOutageMs: 10_000,
      victim: 1,
      ...(process.env.COURIER_TEST_PROGRESS
        ? { progress: (m: string) => console.error(`[scaled] ${m}`) }
        : {}),
    });
    expect(outcome.accepted).toBe(outcome.messages);
    expect({
      lost: outcome.lost,
      duplicated: outcome.duplicated,
      outOfOrder: outcome.outOfOrder,
    }).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0 });
    // The kill hit clients that were on the node, and they went on through the others.
    expect(outcome.clientsOnVictim).toBeGreaterThan(0);
    expect(Number.isFinite(outcome.nodeKillRecoveryMs)).toBe(true);
    expect(Number.isFinite(outcome.nodeRestartReadyMs)).toBe(true);
    expect(Number.isFinite(outcome.natsRecoveryMs)).toBe(true);
    // While PostgreSQL was down: typed errors only, nothing "accepted", no node ready.
    expect(outcome.answersWhilePgDown.length).toBeGreaterThan(0);
    expect(new Set(outcome.answersWhilePgDown)).toEqual(new Set(['STORAGE_UNAVAILABLE']));
    expect(outcome.acceptedWhilePgDown).toBe(0);
    expect(outcome.readyWhilePgDown).toEqual([503, 503, 503]);
    expect(Number.isFinite(outcome.pgRecoveryMs)).toBe(true);
    expect(outcome.allReadyAtEnd).toBe(true);
  }, 420_000);
});
