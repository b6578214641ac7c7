import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { type Endpoint, signEndpointList } from '@courier/protocol';
import { CourierHttp, EndpointBook, EndpointFailover, relayTunnelTransport, spkiPin } from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, nextPhone, type TestDevice, text, untext } from '../support/harness.ts';
import {
  type Block,
  type CensoredNetwork,
  createCensoredNetwork,
  netnsUnavailableReason,
} from '../support/netns.ts';
import { codeFromOutbox } from '../support/server-process.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SECRET = '/netns-relay-secret';
const RELAYS = 4;
const unavailable = netnsUnavailableReason();
const isRoot = process.getuid?.() === 0;

function makeCert(dir: string, name: string) {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

async function until(check: () => Promise<boolean> | boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (
    !(await Promise.resolve()
      .then(check)
      .catch(() => false))
  ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

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

  const dir = mkdtempSync(join(tmpdir(), 'courier-netns-'));
  const key = ed25519.utils.randomSecretKey();
  const children: ChildProcess[] = [];
  let net: CensoredNetwork;
  let coreUrl: string;
  let endpoints: Endpoint[];
  let pin: string;
  const outbox = join(dir, 'sms.jsonl');

  beforeAll(async () => {
    net = createCensoredNetwork(RELAYS);
    const tunnel = makeCert(dir, 'core');
    const relayTls = makeCert(dir, 'relay');
    pin = await spkiPin(readFileSync(tunnel.cert, 'utf8'));
    coreUrl = `http://${net.coreAddress}:8080`;
    writeFileSync(
      join(dir, 'core.json'),
      JSON.stringify({
        host: net.coreAddress,
        port: 8080,
        logLevel: 'warn',
        storage: { kind: 'sqlite', path: join(dir, 'core.db') },
        sms: { kind: 'log', outboxFile: outbox },
        auth: { requestsPerIp: 100_000, codesPerPhone: 1000 },
        transparency: { keyFile: join(dir, 'transparency.key') },
        mls: { certificationKeyFile: join(dir, 'certification.key') },
        endpoints: { tunnel: { certFile: tunnel.cert, keyFile: tunnel.key } },
      }),
    );
    const inServerNs = (...args: string[]) => {
      const child = spawn(
        'ip',
        [
          'netns',
          'exec',
          net.serverNs,
          process.execPath,
          '--import',
          'tsx',
          'packages/server/src/main.ts',
          ...args,
        ],
        {
          cwd: ROOT,
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      children.push(child);
    };
    inServerNs('serve', '--config', join(dir, 'core.json'));
    for (const address of net.relayAddresses)
      inServerNs(
        'relay',
        '--upstream',
        coreUrl,
        '--path',
        SECRET,
        '--cert',
        relayTls.cert,
        '--key',
        relayTls.key,
        '--host',
        address,
        '--port',
        '443',
      );
    await until(
      async () => (await fetch(`${coreUrl}/healthz`)).ok,
      'the core in the server namespace',
      60_000,
    );
    for (const address of net.relayAddresses)
      await until(
        async () =>
          (await fetch(`https://${address}/`).catch(() => undefined)) !== undefined || probeTcp(address),
        `relay ${address}`,
        60_000,
      );
    endpoints = [
      { id: 'core', kind: 'core', url: coreUrl, weight: 10 },
      ...net.relayAddresses.map(
        (address, i): Endpoint => ({
          id: `relay-${i}`,
          kind: 'relay',
          url: `https://${address}${SECRET}`,
          weight: 10,
        }),
      ),
    ];
  }, 120_000);

  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    net?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const addressOf = (id: string | undefined) =>
    new URL(endpoints.find((e) => e.id === id)?.url ?? 'http://none').hostname;

  async function register() {
    const phone = nextPhone();
    const http = new CourierHttp(coreUrl);
    await http.requestCode(phone, 'register');
    const { version } = await http.privacyPolicy();
    const reply = await http.verifyCode(phone, codeFromOutbox(outbox, phone), 'register', 'netns', version);
    http.setToken(reply.token);
    return { ...reply, http };
  }

  async function device(token: string) {
    const now = Date.now();
    const book = new EndpointBook({
      trustedKeys: [ed25519.getPublicKey(key)],
      bootstrap: signEndpointList(
        {
          version: 1,
          serial: 1,
          issuedAt: now - 1000,
          expiresAt: now + 86_400_000,
          corePins: [pin],
          endpoints,
        },
        key,
      ),
    });
    const failover = new EndpointFailover({
      book,
      transport: relayTunnelTransport({ corePins: () => book.corePins, handshakeTimeoutMs: 3000 }),
      timings: { staggerMs: 250, attemptTimeoutMs: 3000, failCooldownMs: 60_000 },
    });
    const d = await connectDevice(
      coreUrl,
      { token },
      { failover, pingIntervalMs: 500, reconnectBaseMs: 100, reconnectCapMs: 2000 },
    );
    const switches: { id: string; at: number }[] = [];
    d.connection.on('endpoint', (e) => switches.push({ id: e.id, at: Date.now() }));
    return { d, switches };
  }

  /** Sends `count` messages from a to b; `during(i)` runs before each batch. Checks 0 lost, 0 duplicated. */
  async function exchange(
    a: { d: TestDevice },
    b: { d: TestDevice },
    groupId: string,
    tag: string,
    minimum: number,
    during: (i: number) => Promise<void> | void,
    more: () => boolean = () => false,
  ) {
    const before = b.d.messages().length;
    let count = 0;
    while (count < minimum || more()) {
      await during(count);
      const batch = count < minimum ? Math.min(50, minimum - count) : 50;
      const from = count;
      await Promise.all(
        Array.from({ length: batch }, (_, k) => a.d.connection.send(groupId, text(`${tag}:${from + k}`))),
      );
      count += batch;
    }
    await b.d.waitForMessages(before + count, 120_000);
    const mine = b.d
      .messages()
      .map((e) => (e.kind === 'message' ? untext(e.payload) : ''))
      .filter((body) => body.startsWith(`${tag}:`));
    const unique = new Set(mine);
    return { sent: count, lost: count - unique.size, duplicated: mine.length - unique.size };
  }

  async function blockRuns(how: Block, runs: number, count: number) {
    const alice = await register();
    const bob = await register();
    const chat = await alice.http.openDirect(bob.accountId);
    const a = await device(alice.token);
    const b = await device(bob.token);
    const times: number[] = [];
    for (let run = 0; run < runs; run++) {
      let blockedAt = 0;
      let blockedId: string | undefined;
      const result = await exchange(a, b, chat.groupId, `${how}${run}`, count, (i) => {
        if (i === Math.floor(count / 3 / 50) * 50) {
          blockedId = a.d.connection.endpointInUse?.id;
          blockedAt = Date.now();
          net.block(addressOf(blockedId), how);
        }
      });
      await until(() => a.switches.some((s) => s.at >= blockedAt), 'alice to switch').finally(() =>
        net.unblockAll(),
      );
      const next = a.switches.find((s) => s.at >= blockedAt)!;
      expect(next.id).not.toBe(blockedId);
      times.push((next.at - blockedAt) / 1000);
      expect(result).toEqual({ sent: count, lost: 0, duplicated: 0 });
      console.log(
        `censorship(netns): ${how} of ${blockedId} (${addressOf(blockedId)}) → back through ${next.id} after ${times.at(-1)!.toFixed(2)} s; ${count} messages, lost ${result.lost}, duplicated ${result.duplicated}`,
      );
    }
    const sorted = [...times].sort((x, y) => x - y);
    console.log(
      `censorship(netns): reconnect after ${how}: p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} s, max ${sorted.at(-1)!.toFixed(2)} s over ${runs} runs`,
    );
    await a.d.connection.stop();
    await b.d.connection.stop();
  }

  it('DROP of the address in use: back online through another endpoint, 0 lost, 0 duplicated, in each of 5 runs', async () => {
    await blockRuns('drop', 5, 1000);
  }, 240_000);

  it('RST of the address in use: back online through another endpoint, 0 lost, 0 duplicated, in each of 3 runs', async () => {
    await blockRuns('reset', 3, 1000);
  }, 240_000);

  it('a rolling censor blocks whatever address the client is on every 4 s (5 % loss on another): 10,000+ messages, 0 lost, 0 duplicated, 3+ addresses blocked', async () => {
    const alice = await register();
    const bob = await register();
    const chat = await alice.http.openDirect(bob.accountId);
    const a = await device(alice.token);
    const b = await device(bob.token);
    const blocked: string[] = [];
    let last = Date.now();
    // 5 % loss on one relay the whole time.
    net.block(net.relayAddresses[RELAYS - 1]!, 'loss', 0.05);
    const started = Date.now();
    const result = await exchange(
      a,
      b,
      chat.groupId,
      'rolling',
      10_000,
      () => {
        if (Date.now() - last < 4000) return;
        last = Date.now();
        const id = a.d.connection.endpointInUse?.id;
        if (!id || blocked.includes(id)) return;
        // Only two addresses stay blocked at once, so there is always a way in.
        if (blocked.length >= 2) net.unblock(addressOf(blocked[blocked.length - 2]));
        net.block(addressOf(id), 'drop');
        blocked.push(id);
      },
      () => blocked.length < 3 && Date.now() - started < 90_000,
    );
    net.unblockAll();
    console.log(
      `censorship(netns): rolling censor blocked ${blocked.length} addresses (${blocked.join(', ')}); ${result.sent} messages, lost ${result.lost}, duplicated ${result.duplicated}`,
    );
    expect(result).toMatchObject({ lost: 0, duplicated: 0 });
    expect(result.sent).toBeGreaterThanOrEqual(10_000);
    expect(blocked.length).toBeGreaterThanOrEqual(3);
    await a.d.connection.stop();
    await b.d.connection.stop();
  }, 240_000);
});

function probeTcp(address: string): Promise<boolean> {
  return import('node:net').then(
    ({ connect }) =>
      new Promise<boolean>((resolve) => {
        const socket = connect({ host: address, port: 443 });
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      }),
  );
}
