import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { signEndpointList } from '@courier/protocol';
import {
  EndpointBook,
  EndpointFailover,
  relayTunnelListFetcher,
  relayTunnelTransport,
  spkiPin,
} from '@courier/sdk';
import { signBundle } from '@courier/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSelfSignedCert } from '../support/netns-scenario.ts';
import { freePort } from '../support/server-process.ts';
import {
  connectDevice,
  nextPhone,
  startTestServer,
  type TestServer,
  text,
  untext,
} from '../support/harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SECRET = '/blind-relay-secret';

async function waitFor<T>(probe: () => T | undefined, what: string, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('blind relay: TLS to the core inside the relay WebSocket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'blind-relay-'));
  const coreTls = makeSelfSignedCert(dir, 'core');
  const relayTls = makeSelfSignedCert(dir, 'relay');
  const key = ed25519.utils.randomSecretKey();
  let core: TestServer;
  let relay: ChildProcess;
  let relayUrl: string;
  let logs = '';

  beforeAll(async () => {
    core = await startTestServer({
      config: {
        endpoints: {
          tunnel: { certFile: coreTls.cert, keyFile: coreTls.key },
          // Written by the test once the relay's address is known; the core re-reads it on change.
          bundleFile: join(dir, 'bundle.json'),
          subsetSecretFile: join(dir, 'subset.key'),
        },
      },
    });
    const port = await freePort();
    relay = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--heapsnapshot-signal=SIGUSR2',
        `--diagnostic-dir=${dir}`,
        join(ROOT, 'packages/server/src/main.ts'),
        'relay',
        '--upstream',
        core.url,
        '--path',
        SECRET,
        '--cert',
        relayTls.cert,
        '--key',
        relayTls.key,
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--stats-interval-s',
        '1',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    relay.stdout!.on('data', (b: Buffer) => {
      logs += b.toString();
    });
    relay.stderr!.on('data', (b: Buffer) => {
      logs += b.toString();
    });
    await waitFor(() => (logs.includes('relay listening') ? true : undefined), 'the relay to listen');
    relayUrl = `https://127.0.0.1:${port}${SECRET}`;
  });
  afterAll(async () => {
    relay?.kill('SIGTERM');
    await core?.close();
  });

  it('carries a chat whose token and message marker never appear in the relay logs or heap, and refuses an unpinned core', async () => {
    const pin = await spkiPin(readFileSync(coreTls.cert, 'utf8'));
    const now = Date.now();
    const signed = signEndpointList(
      {
        version: 1,
        serial: 1,
        issuedAt: now - 1000,
        expiresAt: now + 86_400_000,
        corePins: [pin],
        endpoints: [{ id: 'relay-blind', kind: 'relay', url: relayUrl, weight: 1 }],
      },
      key,
    );
    const book = new EndpointBook({ trustedKeys: [ed25519.getPublicKey(key)], bootstrap: signed });
    // The core's serial 2: this relay in the public list, four more relays handed out per account.
    const more = [1, 2, 3, 4].map((i) => ({
      id: `relay-x${i}`,
      kind: 'relay' as const,
      url: `https://198.18.9.${i}/p${i}-secret`,
      weight: 1,
    }));
    writeFileSync(
      join(dir, 'bundle.json'),
      JSON.stringify(
        signBundle(
          {
            version: 1,
            serial: 2,
            issuedAt: now - 1000,
            expiresAt: now + 86_400_000,
            corePins: [pin],
            endpoints: [{ id: 'relay-blind', kind: 'relay', url: relayUrl, weight: 1 }, ...more],
          },
          key,
          ['relay-blind'],
        ),
      ),
    );
    const failover = () =>
      new EndpointFailover({ book, transport: relayTunnelTransport({ corePins: () => book.corePins }) });
    const alice = await core.register(nextPhone());
    const bob = await core.register(nextPhone());
    const chat = await alice.http.openDirect(bob.accountId);
    const a = await connectDevice(core.url, alice, { failover: failover() });
    const b = await connectDevice(core.url, bob, { failover: failover() });
    expect(a.connection.endpointInUse?.id).toBe('relay-blind');
    const marker = `MARKER-${Math.random().toString(36).slice(2)}-BLIND`;
    for (let i = 0; i < 20; i++) await a.connection.send(chat.groupId, text(`${marker} ${i}`));
    const got = await b.waitForMessages(20);
    expect(untext((got[19] as { payload: Uint8Array }).payload)).toBe(`${marker} 19`);

    // A list refresh through the tunnel carries the token inside the pinned TLS, so the core adds
    // this account's relays; a plain fetch through the relay could not (and would show the token).
    const refresher = new EndpointFailover({
      book,
      fetchList: relayTunnelListFetcher({ corePins: () => book.corePins }),
    });
    await refresher.refresh(book.endpoints()[0]!, alice.token);
    expect(book.serial).toBe(2);
    expect(book.endpoints().filter((e) => e.id.startsWith('relay-x')).length).toBeGreaterThanOrEqual(2);

    // The relay's memory, while the tunnels are open, and everything it logged.
    relay.kill('SIGUSR2');
    const snapshot = await waitFor(
      () =>
        readdirSync(dir).find((f) =>
          f.endsWith('.heapsnapshot') &&
          readFileSync(join(dir, f)).length > 0 &&
          readFileSync(join(dir, f), 'utf8').trimEnd().endsWith(']}')
            ? f
            : undefined,
        ),
      'the heap snapshot',
      60_000,
    );
    const heap = readFileSync(join(dir, snapshot), 'utf8');
    expect(heap.length).toBeGreaterThan(100_000);
    // Two device tunnels and one list refresh went through it.
    const upgrades = () =>
      Math.max(
        0,
        ...logs
          .split('\n')
          .filter((line) => line.includes('relay counters'))
          .map((line) => {
            try {
              return (JSON.parse(line) as { counters: { upgrades: number } }).counters.upgrades;
            } catch {
              return 0; // a line still being written
            }
          }),
      );
    await waitFor(() => (upgrades() >= 3 ? true : undefined), 'the counters log');
    for (const secret of [marker, alice.token, bob.token]) {
      expect(heap.includes(secret)).toBe(false);
      expect(logs.includes(secret)).toBe(false);
    }
    // No client address in any line but the relay's own listening address.
    const other = logs.split('\n').filter((line) => line && !line.includes('relay listening'));
    expect(other.length).toBeGreaterThan(0);
    for (const line of other) expect(line).not.toContain('127.0.0.1');

    // A list that pins another key: the tunnel is refused before anything is sent.
    const wrong = new EndpointBook({
      trustedKeys: [ed25519.getPublicKey(key)],
      bootstrap: signEndpointList(
        {
          version: 1,
          serial: 1,
          issuedAt: now - 1000,
          expiresAt: now + 86_400_000,
          corePins: [Buffer.alloc(32, 1).toString('base64')],
          endpoints: [{ id: 'relay-blind', kind: 'relay', url: relayUrl, weight: 1 }],
        },
        key,
      ),
    });
    const refused = new EndpointFailover({
      book: wrong,
      transport: relayTunnelTransport({ corePins: () => wrong.corePins }),
    });
    await expect(refused.connect()).rejects.toMatchObject({ code: 'SERVER_UNAVAILABLE' });
    await a.connection.stop();
    await b.connection.stop();
  });

  it('shows the relay only TLS records: a tap on its client sockets finds the token and marker in the clear mode and never in the blind one', async () => {
    // An in-process relay with a tap that reads, like a curious relay would, the WebSocket frames its
    // clients send after the upgrade (unmasked: client masking hides nothing from the relay).
    const { createRelay } = await import('@courier/server');
    // ws exports its frame parser (not in @types/ws).
    const { Receiver } = (await import('ws')) as unknown as {
      Receiver: new (options: {
        isServer: boolean;
        maxPayload: number;
      }) => {
        on(event: string, listener: (data: Buffer) => void): void;
        write(chunk: Buffer): void;
      };
    };
    const relayInProcess = createRelay({
      upstream: core.url,
      path: SECRET,
      tls: { cert: readFileSync(relayTls.cert), key: readFileSync(relayTls.key) },
    });
    let seen = Buffer.alloc(0);
    relayInProcess.server.on('upgrade', (_req, socket) => {
      const receiver = new Receiver({ isServer: true, maxPayload: 0 });
      receiver.on('message', (data: Buffer) => {
        seen = Buffer.concat([seen, data]);
      });
      receiver.on('error', () => {});
      socket.on('data', (chunk: Buffer) => receiver.write(chunk));
    });
    const url = `${await relayInProcess.listen(0, '127.0.0.1')}${SECRET}`;
    const pin = await spkiPin(readFileSync(coreTls.cert, 'utf8'));
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
          endpoints: [{ id: 'relay-tap', kind: 'relay', url, weight: 1 }],
        },
        key,
      ),
    });
    const alice = await core.register(nextPhone());
    const bob = await core.register(nextPhone());
    const chat = await alice.http.openDirect(bob.accountId);
    const b = await connectDevice(core.url, bob);
    const exchange = async (mode: string, options: Parameters<typeof connectDevice>[2]) => {
      seen = Buffer.alloc(0);
      const a = await connectDevice(core.url, alice, options);
      const marker = `TAP-${mode}-${Math.random().toString(36).slice(2)}`;
      await a.connection.send(chat.groupId, text(marker));
      await a.connection.stop();
      return { marker, bytes: seen.toString('latin1') };
    };
    // The clear mode (a plain WebSocket through the relay, no inner TLS) is the control: the tap works.
    const { WebSocket } = await import('ws');
    const clear = await exchange('clear', {
      createSocket: (() =>
        new WebSocket(url.replace('https:', 'wss:'), {
          rejectUnauthorized: false,
          perMessageDeflate: false,
        })) as never,
    });
    expect(clear.bytes.length).toBeGreaterThan(0);
    expect(clear.bytes).toContain(alice.token);
    expect(clear.bytes).toContain(clear.marker);
    const blind = await exchange('blind', {
      failover: new EndpointFailover({
        book,
        transport: relayTunnelTransport({ corePins: () => book.corePins }),
      }),
    });
    expect(blind.bytes.length).toBeGreaterThan(0);
    expect(blind.bytes).not.toContain(alice.token);
    expect(blind.bytes).not.toContain(blind.marker);
    await b.connection.stop();
    await relayInProcess.close();
  });
});
