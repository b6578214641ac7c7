import { opaqueApplicationMessage } from '@courier/mls';
import type { ServerFrame } from '@courier/protocol';
import { MemoryClientStore } from '@courier/sdk';
import { bodyOf, OpaqueConnection, text, untext } from './harness.ts';
import { FrameProbe, type RegisteredUser, type ScaledCluster } from './scaled-cluster.ts';
import { until } from './until.ts';

/**
 * The story of issue 11 on a running ScaledCluster: messages flow from SDK connections (failover
 * across every node's endpoint, each client starting on its own node) while a node is killed with
 * SIGKILL and restarted, NATS is restarted and PostgreSQL is stopped for a while. Returns what
 * happened, for the test to assert and the bench to print.
 *
 * Clients are MLS-free (OpaqueConnection: payloads shaped as MLS application messages, as the bench's
 * load clients send), so that thousands of messages fit the suite; MLS itself is tested elsewhere.
 */

export interface ScenarioParams {
  /** Messages in all (rounded up to a multiple of the number of senders). */
  messages: number;
  groups: number;
  /** Members per group, each on a different node to start with; every member sends. */
  membersPerGroup: number;
  /** How long PostgreSQL stays down. */
  pgOutageMs: number;
  /** Which node is killed (never node 0, where the watcher of cross-node delivery sits). */
  victim: number;
  progress?: (message: string) => void;
}

export interface ScenarioOutcome {
  messages: number;
  senders: number;
  accepted: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** kill -9 → every client that was on the killed node has a send accepted again. */
  nodeKillRecoveryMs: number;
  /** How many clients were on the killed node when it died. */
  clientsOnVictim: number;
  /** Restart of the killed node → its /readyz answers 200. */
  nodeRestartReadyMs: number;
  /** NATS stopped → a message sent after NATS is back has reached a member on another node. */
  natsRecoveryMs: number;
  /** PostgreSQL started again → a send is accepted again. */
  pgRecoveryMs: number;
  /** PostgreSQL started again → every node's /readyz answers 200. */
  pgReadyAgainMs: number;
  /** What the probe's sends were answered while PostgreSQL was down (error codes, or "accepted"). */
  answersWhilePgDown: string[];
  /** /readyz status codes of the nodes while PostgreSQL was down. */
  readyWhilePgDown: number[];
  /** SDK sends answered "accepted" while PostgreSQL was down. */
  acceptedWhilePgDown: number;
  /** Whether every node answers /readyz 200 at the end. */
  allReadyAtEnd: boolean;
}

interface Received {
  groupId: string;
  seq: number;
  body: string;
}

interface Device {
  index: number;
  user: RegisteredUser;
  groupId: string;
  connection: OpaqueConnection;
  received: Received[];
  lastAcceptedAt: number;
  /** The first accept after the node kill. */
  firstAcceptAfterKill: number | undefined;
  done: boolean;
  onReceive: (() => void)[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runScaledFaults(
  cluster: ScaledCluster,
  params: ScenarioParams,
): Promise<ScenarioOutcome> {
  const say = params.progress ?? (() => {});
  const nodeCount = cluster.nodes.length;
  const devices: Device[] = [];
  const probes: FrameProbe[] = [];
  /** Notes crashed nodes; a crash is a finding, so the run stops there and says which and why. */
  const checkAlive = () => {
    for (const [i, node] of cluster.nodes.entries()) {
      if (cluster.alive(i)) continue;
      throw new Error(`${node.id} crashed; its last output:\n${node.log.slice(-3_000)}`);
    }
  };
  try {
    // ---- accounts, groups, devices -------------------------------------------------------
    const users: RegisteredUser[][] = [];
    for (let g = 0; g < params.groups; g++) {
      const members: RegisteredUser[] = [];
      for (let m = 0; m < params.membersPerGroup; m++) members.push(await cluster.register(0));
      users.push(members);
    }
    const groupIds: string[] = [];
    for (const members of users) {
      const group = await members[0]!.http.createGroup(
        'scaled faults',
        members.slice(1).map((u) => u.accountId),
      );
      groupIds.push(group.groupId);
    }
    const open = async (user: RegisteredUser, groupId: string, home: number): Promise<Device> => {
      const device: Device = {
        index: devices.length,
        user,
        groupId,
        received: [],
        lastAcceptedAt: 0,
        firstAcceptAfterKill: undefined,
        done: false,
        onReceive: [],
        connection: undefined as unknown as OpaqueConnection,
      };
      device.connection = new OpaqueConnection({
        url: cluster.nodes[home]!.url,
        token: user.token,
        store: new MemoryClientStore(),
        failover: cluster.failover(home),
        pingIntervalMs: 1_000,
        reconnectBaseMs: 50,
        reconnectCapMs: 500,
        onEntry: (frame) => {
          if (frame.kind !== 'message') return;
          const entry = bodyOf(frame);
          device.received.push({ groupId: entry.groupId, seq: entry.seq, body: untext(entry.payload) });
          for (const f of device.onReceive) f();
        },
      });
      devices.push(device);
      device.connection.start();
      await device.connection.ready();
      return device;
    };
    const senders: Device[] = [];
    for (const [g, members] of users.entries())
      for (const [m, user] of members.entries())
        senders.push(await open(user, groupIds[g]!, (g + m) % nodeCount));

    // The cross-node probe: a sender speaking frames on the last node, a watcher on node 0.
    const prober = await cluster.register(0);
    const watcherUser = await cluster.register(0);
    const probeGroup = (await prober.http.createGroup('probe', [watcherUser.accountId])).groupId;
    const watcher = await open(watcherUser, probeGroup, 0);
    const probeNode = nodeCount - 1;
    let probe = await FrameProbe.connect(cluster.nodes[probeNode]!.url, prober.token);
    probes.push(probe);
    let probeCount = 0;
    const probeSent = new Map<string, number>();
    const probeSend = async (): Promise<ServerFrame> => {
      if (!probe.open) {
        probe = await FrameProbe.connect(cluster.nodes[probeNode]!.url, prober.token);
        probes.push(probe);
      }
      const n = probeCount++;
      const body = `probe:${n}`;
      probeSent.set(body, Date.now());
      return probe.send(probeGroup, `probe-${n}`, opaqueApplicationMessage(probeGroup, text(body)));
    };
    const probeAccepted: string[] = [];

    // ---- the flow ------------------------------------------------------------------------
    const perSender = Math.ceil(params.messages / senders.length);
    const total = perSender * senders.length;
    let accepted = 0;
    let killedAt: number | undefined;
    const acceptedSeq = new Map<string, number>();
    const acceptTimes: number[] = [];
    const sendAll = async (device: Device) => {
      for (let i = 0; i < perSender; i++) {
        const body = `${device.index}:${i}`;
        const reply = await device.connection.send(device.groupId, text(body));
        device.lastAcceptedAt = Date.now();
        if (
          killedAt !== undefined &&
          device.firstAcceptAfterKill === undefined &&
          device.lastAcceptedAt > killedAt
        )
          device.firstAcceptAfterKill = device.lastAcceptedAt;
        acceptTimes.push(device.lastAcceptedAt);
        acceptedSeq.set(body, reply.seq);
        accepted += 1;
      }
      device.done = true;
    };
    const untilAccepted = (share: number) =>
      until(() => accepted >= total * share, `${share * total} accepted`, 300_000, 20);
    say(`${senders.length} senders in ${params.groups} groups, ${total} messages over ${nodeCount} nodes`);

    const outcome = {
      nodeKillRecoveryMs: Number.NaN,
      clientsOnVictim: 0,
      nodeRestartReadyMs: Number.NaN,
      natsRecoveryMs: Number.NaN,
      pgRecoveryMs: Number.NaN,
      pgReadyAgainMs: Number.NaN,
      answersWhilePgDown: [] as string[],
      readyWhilePgDown: [] as number[],
      acceptedWhilePgDown: 0,
    };

    const faults = async () => {
      // 1. kill -9 a node: its clients fail over to the others; then it is restarted.
      await untilAccepted(0.15);
      const victimId = cluster.nodes[params.victim]!.id;
      const onVictim = senders.filter((d) => d.connection.endpointInUse?.id === victimId);
      outcome.clientsOnVictim = onVictim.length;
      const killAt = Date.now();
      killedAt = killAt;
      await cluster.killNode(params.victim);
      say(`killed ${victimId} (${onVictim.length} clients on it)`);
      await until(
        () => onVictim.every((d) => d.firstAcceptAfterKill !== undefined || d.done),
        'the killed node\u2019s clients to send again',
        120_000,
        10,
      );
      // Over the clients that had more to send (one that finished meanwhile says nothing).
      const again = onVictim.flatMap((d) =>
        d.firstAcceptAfterKill === undefined ? [] : [d.firstAcceptAfterKill],
      );
      outcome.nodeKillRecoveryMs = again.length > 0 ? Math.max(...again) - killAt : Number.NaN;
      say(`its clients send again after ${outcome.nodeKillRecoveryMs} ms; restarting it`);
      outcome.nodeRestartReadyMs = await cluster.startNode(params.victim);
      say(`${victimId} ready ${outcome.nodeRestartReadyMs} ms after its restart`);
      checkAlive();

      // 2. restart NATS: cross-node delivery must resume (a probe sent after it is back reaches node 0).
      await untilAccepted(0.35);
      const natsStoppedAt = Date.now();
      await cluster.restartNats();
      const natsUpAt = Date.now();
      say(`NATS restarted in ${natsUpAt - natsStoppedAt} ms`);
      const heard = new Promise<number>((resolve) => {
        const check = () => {
          for (const r of watcher.received) {
            const sentAt = probeSent.get(r.body);
            if (sentAt !== undefined && sentAt >= natsUpAt) resolve(Date.now());
          }
        };
        watcher.onReceive.push(check);
      });
      let heardAt: number | undefined;
      void heard.then((at) => {
        heardAt = at;
      });
      while (heardAt === undefined) {
        if (Date.now() - natsUpAt > 120_000)
          throw new Error(
            `no cross-node delivery within 120 s of the NATS restart (watcher has ${watcher.received.length} of ${probeCount} probes, state ${watcher.connection.state} via ${watcher.connection.endpointInUse?.id}); node logs:\n${cluster.nodes.map((n) => `${n.id}: ${n.log.slice(-1500)}`).join('\n')}`,
          );
        const answer = await probeSend();
        if (answer.type === 'accepted') probeAccepted.push(`probe:${probeCount - 1}`);
        else
          throw new Error(
            `the probe's send was refused: ${answer.type === 'error' ? answer.code : answer.type}`,
          );
        await sleep(100);
      }
      outcome.natsRecoveryMs = heardAt - natsStoppedAt;
      say(`cross-node delivery again ${outcome.natsRecoveryMs} ms after NATS went down`);
      checkAlive();

      // 3. PostgreSQL down for pgOutageMs: sends get a typed error, never "accepted".
      await untilAccepted(0.55);
      const pgStoppingAt = Date.now();
      await cluster.stopPostgres();
      const pgDownAt = Date.now();
      const acceptedBefore = acceptTimes.length;
      say(`PostgreSQL stopped (${pgDownAt - pgStoppingAt} ms)`);
      while (Date.now() - pgStoppingAt < params.pgOutageMs) {
        await sleep(200);
        checkAlive();
        try {
          const answer = await probeSend();
          outcome.answersWhilePgDown.push(answer.type === 'error' ? answer.code : answer.type);
          if (answer.type === 'accepted') probeAccepted.push(`probe:${probeCount - 1}`);
        } catch (error) {
          outcome.answersWhilePgDown.push(`no answer: ${(error as Error).message}`);
        }
        await sleep(500);
      }
      outcome.readyWhilePgDown = await Promise.all(cluster.nodes.map((_, i) => cluster.readyStatus(i)));
      checkAlive();
      // Answers to commits made before the stop may still be on their way: 500 ms of grace.
      outcome.acceptedWhilePgDown = acceptTimes
        .slice(acceptedBefore)
        .filter((t) => t > pgDownAt + 500).length;
      await cluster.startPostgres();
      const pgUpAt = Date.now();
      say(`PostgreSQL started again after ${pgUpAt - pgStoppingAt} ms down`);
      const ready = Promise.all(cluster.nodes.map((_, i) => cluster.untilReady(i, 120_000))).then(() =>
        Date.now(),
      );
      for (;;) {
        if (Date.now() - pgUpAt > 120_000)
          throw new Error('no send accepted within 120 s of PostgreSQL coming back');
        const answer = await probeSend().catch(() => undefined);
        if (answer?.type === 'accepted') {
          probeAccepted.push(`probe:${probeCount - 1}`);
          outcome.pgRecoveryMs = Date.now() - pgUpAt;
          break;
        }
        await sleep(100);
      }
      outcome.pgReadyAgainMs = (await ready) - pgUpAt;
      say(
        `writes accepted again after ${outcome.pgRecoveryMs} ms; every node ready after ${outcome.pgReadyAgainMs} ms`,
      );
      checkAlive();
    };

    await Promise.all([...senders.map(sendAll), faults()]);
    say(`all ${accepted} accepted; waiting for every member to have every message`);

    // ---- what every member ended with -------------------------------------------------------
    const expectedFor = (d: Device) =>
      senders.filter((s) => s.groupId === d.groupId && s !== d).length * perSender;
    await until(
      () => senders.every((d) => d.received.length >= expectedFor(d)),
      'every member to have every message',
      180_000,
      100,
    ).catch(() => undefined);
    await until(
      () => probeAccepted.every((body) => watcher.received.some((r) => r.body === body)),
      'the watcher to have every accepted probe',
      60_000,
    ).catch(() => undefined);
    // Anything duplicated would arrive now.
    await sleep(1_000);

    let lost = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    for (const d of senders) {
      const seen = d.received.filter((r) => r.groupId === d.groupId);
      const bodies = new Set(seen.map((r) => r.body));
      duplicated += seen.length - bodies.size;
      for (const s of senders.filter((x) => x.groupId === d.groupId && x !== d)) {
        const fromS = seen.filter((r) => r.body.startsWith(`${s.index}:`));
        for (let i = 0; i < perSender; i++) if (!bodies.has(`${s.index}:${i}`)) lost += 1;
        // One sender's messages arrive in the order it sent them.
        const numbers = fromS.map((r) => Number(r.body.split(':')[1]));
        for (let k = 1; k < numbers.length; k++) if (numbers[k]! <= numbers[k - 1]!) outOfOrder += 1;
      }
      // The group's one order: ascending sequence numbers, each the number the sender was given.
      for (let k = 1; k < seen.length; k++) if (seen[k]!.seq <= seen[k - 1]!.seq) outOfOrder += 1;
      for (const r of seen) if (acceptedSeq.get(r.body) !== r.seq) outOfOrder += 1;
    }
    const probeSeen = watcher.received.map((r) => r.body);
    lost += probeAccepted.filter((body) => !probeSeen.includes(body)).length;
    duplicated += probeSeen.length - new Set(probeSeen).size;

    checkAlive();
    const allReadyAtEnd = (await Promise.all(cluster.nodes.map((_, i) => cluster.ready(i)))).every(Boolean);
    return {
      messages: total,
      senders: senders.length,
      accepted,
      lost,
      duplicated,
      outOfOrder,
      ...outcome,
      allReadyAtEnd,
    };
  } finally {
    for (const p of probes) p.close();
    await Promise.all(devices.map((d) => d.connection.stop()));
  }
}
