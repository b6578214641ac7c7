import { ed25519 } from '@noble/curves/ed25519.js';
import { fromBase64, parseEndpointLink, verifyEndpointList, verifyEndpointTicket } from '@courier/protocol';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EndpointBundle } from '../endpoints/endpoint-bundle.ts';
import { runEndpointsCommand } from './endpoints-command.ts';

const NOW = Date.now();
const list = {
  version: 1,
  serial: 3,
  issuedAt: NOW - 1000,
  expiresAt: NOW + 7 * 86_400_000,
  corePins: [],
  endpoints: [
    { id: 'core', kind: 'core', url: 'https://198.18.0.10:8443', weight: 10 },
    { id: 'relay-1', kind: 'relay', url: 'wss://198.18.0.11/p', weight: 5 },
    { id: 'relay-2', kind: 'relay', url: 'wss://198.18.0.12/p', sni: 'www.example.org', weight: 5 },
  ],
};

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runEndpointsCommand(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('courier-server endpoints', () => {
  it('makes a key, signs a list whose public part holds only the bootstrap relays, and links one relay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'endpoints-cli-'));
    const keyFile = join(dir, 'key.json');
    const keygen = await run('keygen', '--out', keyFile);
    expect(keygen.code).toBe(0);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const publicKey = fromBase64(JSON.parse(keygen.out).publicKey as string)!;
    expect(ed25519.getPublicKey(fromBase64(JSON.parse(readFileSync(keyFile, 'utf8')).secretKey)!)).toEqual(
      publicKey,
    );
    // A second keygen never overwrites the offline key.
    expect((await run('keygen', '--out', keyFile)).code).toBe(1);

    writeFileSync(join(dir, 'list.json'), JSON.stringify(list));
    const bundleFile = join(dir, 'bundle.json');
    const signed = await run(
      'sign',
      '--list',
      join(dir, 'list.json'),
      '--key',
      keyFile,
      '--bootstrap',
      'relay-2',
      '--out',
      bundleFile,
    );
    expect(signed).toMatchObject({ code: 0, err: '' });
    expect(statSync(bundleFile).mode & 0o777).toBe(0o600);
    const bundle = JSON.parse(readFileSync(bundleFile, 'utf8')) as EndpointBundle;
    const verified = verifyEndpointList(bundle.list, { trustedKeys: [publicKey], now: NOW });
    expect(verified.endpoints.map((e) => e.id)).toEqual(['core', 'relay-2']);
    expect(Object.keys(bundle.tickets)).toEqual(['relay-1', 'relay-2']);

    const link = await run('link', '--bundle', bundleFile, '--id', 'relay-1');
    expect(link.code).toBe(0);
    const ticket = verifyEndpointTicket(parseEndpointLink(link.out), { trustedKeys: [publicKey], now: NOW });
    expect(ticket.endpoint).toEqual(list.endpoints[1]);
  });

  it('answers a bad list or key with a catalog code and a usage line for bad arguments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'endpoints-cli-'));
    const keyFile = join(dir, 'key.json');
    await run('keygen', '--out', keyFile);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...list, serial: -1 }));
    const bad = await run('sign', '--list', join(dir, 'bad.json'), '--key', keyFile);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('ENDPOINTS_MALFORMED');
    writeFileSync(join(dir, 'junk-key.json'), '{"secretKey":"AAAA"}');
    writeFileSync(join(dir, 'list.json'), JSON.stringify(list));
    expect(
      (await run('sign', '--list', join(dir, 'list.json'), '--key', join(dir, 'junk-key.json'))).err,
    ).toContain('ENDPOINTS_MALFORMED');
    const unknownBootstrap = await run(
      'sign',
      '--list',
      join(dir, 'list.json'),
      '--key',
      keyFile,
      '--bootstrap',
      'nope',
    );
    expect(unknownBootstrap.err).toContain('nope');
    expect((await run('sign')).code).toBe(2);
    expect((await run('frobnicate', '--what')).code).toBe(2);
  });
});
