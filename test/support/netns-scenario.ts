import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { type Endpoint, signEndpointList } from '@courier/protocol';
import {
  CourierHttp,
  EndpointBook,
  EndpointFailover,
  relayTunnelListFetcher,
  relayTunnelTransport,
  spkiPin,
} from '@courier/sdk';
import { connectDevice, nextPhone, type TestDevice, text, untext } from './harness.ts';
import { onExitCleanup } from './exit-cleanup.ts';
import { type Block, type CensoredNetwork, createCensoredNetwork } from './netns.ts';
import { codeFromOutbox } from './server-process.ts';
import { tcpOpen, until } from './until.ts';

/** How often the scenario polls for a core, a relay or a switch. */
const POLL_MS = 200;

const ROOT = resolve(import.meta.dirname, '../..');
const SECRET = '/netns-relay-secret';

export interface CensorDevice {
  d: TestDevice;
  switches: { id: string; at: number }[];
}

export interface BlockOutcome {
  how: Block;
  from: string | undefined;
  to: string;
  reconnectSeconds: number;
  sent: number;
  lost: number;
  duplicated: number;
}

/**
 * The core and `relayCount` relays as real processes in the server namespace of a CensoredNetwork,
 * and clients in this process that reach them through a signed list (relays via the blind tunnel).
 * Shared by test/censorship/netns.test.ts and `npm run bench -- blocking`.
 */
export class CensorScenario {
  private constructor(
    readonly net: CensoredNetwork,
    readonly coreUrl: string,
    readonly endpoints: Endpoint[],
    private readonly pin: string,
    private readonly key: Uint8Array,
    private readonly outbox: string,
    /** The core's and relays' processes, and the scenario's directory: what it removes on close. */
    readonly children: readonly ChildProcess[],
    readonly dir: string,
    private readonly removeAll: () => void,
  ) {}

  static async start(relayCount: number): Promise<CensorScenario> {
    const dir = mkdtempSync(join(tmpdir(), 'courier-netns-'));
    const children: ChildProcess[] = [];
    let net: CensoredNetwork | undefined;
    // However this process ends (a crash, Ctrl-C, SIGTERM), the core, the relays and the namespaces go.
    const unregister = onExitCleanup(() => removeAll());
    const removeAll = () => {
      unregister();
      for (const child of children) child.kill('SIGKILL');
      net?.destroy();
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      net = createCensoredNetwork(relayCount);
      const tunnel = makeSelfSignedCert(dir, 'core');
      const relayTls = makeSelfSignedCert(dir, 'relay');
      const pin = await spkiPin(readFileSync(tunnel.cert, 'utf8'));
      const coreUrl = `http://${net.coreAddress}:8080`;
      const outbox = join(dir, 'sms.jsonl');
      writeFileSync(
        join(dir, 'core.json'),
        JSON.stringify({
          host: net.coreAddress,
          port: 8080,
          logLevel: 'warn',
          storage: { kind: 'sqlite', path: join(dir, 'core.db') },
          // Development mode: the scenario reads codes from the log adapter's outbox.
          dev: true,
          dataDir: dir,
          sms: { kind: 'log', outboxFile: outbox },
          auth: {
            requestsPerIp: 100_000,
            codesPerPhone: 1000,
            codesPerPhonePerSource: 1000,
            smsPerWindow: 1_000_000,
          },
          transparency: { keyFile: join(dir, 'transparency.key') },
          mls: { certificationKeyFile: join(dir, 'certification.key') },
          endpoints: { tunnel: { certFile: tunnel.cert, keyFile: tunnel.key } },
        }),
      );
      const serverNs = net.serverNs;
      const inServerNs = (...args: string[]) => {
        const child = spawn(
          'ip',
          [
            'netns',
            'exec',
            serverNs,
            process.execPath,
            '--import',
            'tsx',
            'packages/server/src/main.ts',
            ...args,
          ],
          { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
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
        POLL_MS,
      );
      for (const address of net.relayAddresses)
        await until(() => tcpOpen(address, 443), `relay ${address}`, 60_000, POLL_MS);
      const endpoints: Endpoint[] = [
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
      return new CensorScenario(
        net,
        coreUrl,
        endpoints,
        pin,
        ed25519.utils.randomSecretKey(),
        outbox,
        children,
        dir,
        removeAll,
      );
    } catch (error) {
      removeAll();
      throw error;
    }
  }

  /** Kills the core and the relays and removes the namespaces and the scenario's files. */
  close(): void {
    this.removeAll();
  }

  addressOf(id: string | undefined): string {
    return new URL(this.endpoints.find((e) => e.id === id)?.url ?? 'http://none').hostname;
  }

  async register() {
    const phone = nextPhone();
    const http = new CourierHttp(this.coreUrl);
    await http.requestCode(phone, 'register');
    const { version } = await http.privacyPolicy();
    const reply = await http.verifyCode(
      phone,
      codeFromOutbox(this.outbox, phone),
      'register',
      'netns',
      version,
    );
    http.setToken(reply.token);
    return { ...reply, http };
  }

  async device(token: string): Promise<CensorDevice> {
    const now = Date.now();
    const book = new EndpointBook({
      trustedKeys: [ed25519.getPublicKey(this.key)],
      bootstrap: signEndpointList(
        {
          version: 1,
          serial: 1,
          issuedAt: now - 1000,
          expiresAt: now + 86_400_000,
          corePins: [this.pin],
          endpoints: this.endpoints,
        },
        this.key,
      ),
    });
    const failover = new EndpointFailover({
      book,
      transport: relayTunnelTransport({ corePins: () => book.corePins, handshakeTimeoutMs: 3000 }),
      fetchList: relayTunnelListFetcher({ corePins: () => book.corePins, handshakeTimeoutMs: 3000 }),
      timings: { staggerMs: 250, attemptTimeoutMs: 3000, failCooldownMs: 60_000 },
    });
    const d = await connectDevice(
      this.coreUrl,
      { token },
      { failover, pingIntervalMs: 500, reconnectBaseMs: 100, reconnectCapMs: 2000 },
    );
    const switches: { id: string; at: number }[] = [];
    d.connection.on('endpoint', (e) => switches.push({ id: e.id, at: Date.now() }));
    return { d, switches };
  }

  /** Sends at least `minimum` messages a → b (more while `more()`); counts what b lost or got twice. */
  async exchange(
    a: CensorDevice,
    b: CensorDevice,
    groupId: string,
    tag: string,
    minimum: number,
    during: (sent: number) => void,
    more: () => boolean = () => false,
  ): Promise<{ sent: number; lost: number; duplicated: number }> {
    const before = b.d.messages().length;
    let count = 0;
    while (count < minimum || more()) {
      during(count);
      const batch = count < minimum ? Math.min(50, minimum - count) : 50;
      const from = count;
      await Promise.all(
        Array.from({ length: batch }, (_, k) => a.d.connection.send(groupId, text(`${tag}:${from + k}`))),
      );
      count += batch;
    }
    await b.d.waitForMessages(before + count, 120_000).catch(() => undefined);
    const mine = b.d
      .messages()
      .map((e) => (e.kind === 'message' ? untext(e.payload) : ''))
      .filter((body) => body.startsWith(`${tag}:`));
    const unique = new Set(mine);
    return { sent: count, lost: count - unique.size, duplicated: mine.length - unique.size };
  }

  /** Blocks the address `a` is on a third of the way through `count` messages; how long until it is back. */
  async blockOnce(
    a: CensorDevice,
    b: CensorDevice,
    groupId: string,
    how: Block,
    count: number,
    tag: string,
  ): Promise<BlockOutcome> {
    let blockedAt = 0;
    let from: string | undefined;
    const third = Math.floor(count / 3 / 50) * 50;
    try {
      const result = await this.exchange(a, b, groupId, tag, count, (sent) => {
        if (sent !== third) return;
        from = a.d.connection.endpointInUse?.id;
        blockedAt = Date.now();
        this.net.block(this.addressOf(from), how);
      });
      await until(() => a.switches.some((s) => s.at >= blockedAt), 'the client to switch', 30_000, POLL_MS);
      const next = a.switches.find((s) => s.at >= blockedAt)!;
      return { how, from, to: next.id, reconnectSeconds: (next.at - blockedAt) / 1000, ...result };
    } finally {
      this.net.unblockAll();
    }
  }

  /** Every 4 s, blocks the address `a` is on (two at most at once), with loss on one relay throughout. */
  async rolling(a: CensorDevice, b: CensorDevice, groupId: string, minimum: number, minimumBlocked: number) {
    const blocked: string[] = [];
    let last = Date.now();
    const started = Date.now();
    const lossy = this.net.relayAddresses.at(-1)!;
    this.net.block(lossy, 'loss', 0.05);
    try {
      const result = await this.exchange(
        a,
        b,
        groupId,
        `rolling${started}`,
        minimum,
        () => {
          if (Date.now() - last < 4000) return;
          last = Date.now();
          const id = a.d.connection.endpointInUse?.id;
          if (!id || blocked.includes(id)) return;
          if (blocked.length >= 2) this.net.unblock(this.addressOf(blocked[blocked.length - 2]));
          this.net.block(this.addressOf(id), 'drop');
          blocked.push(id);
        },
        () => blocked.length < minimumBlocked && Date.now() - started < 90_000,
      );
      return { ...result, blocked };
    } finally {
      this.net.unblockAll();
    }
  }
}

/** A throwaway self-signed P-256 certificate (openssl) for relays and the core's tunnel. */
export function makeSelfSignedCert(dir: string, name: string): { cert: string; key: string } {
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
