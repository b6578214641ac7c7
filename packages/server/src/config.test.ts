import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configDefaults, parseConfig } from './config.ts';

describe('config', () => {
  it('refuses values no server could run with, naming the key', () => {
    for (const maxPayloadBytes of [10, 0, 128 * 1024 * 1024])
      expect(() => parseConfig({ delivery: { maxPayloadBytes } })).toThrow(/maxPayloadBytes/);
    expect(parseConfig({ delivery: { maxPayloadBytes: 65_536 } }).delivery.maxPayloadBytes).toBe(65_536);
  });

  it('accepts the documented example, which lists every default', () => {
    const example = JSON.parse(
      readFileSync(new URL('../../../docs/config.example.json', import.meta.url), 'utf8'),
    );
    expect(configDefaults()).toEqual(example);
    expect(parseConfig(example)).toEqual(parseConfig({}));
    // The example names no derived path: another dataDir in a copy of it moves every file.
    const moved = parseConfig({ ...example, dataDir: '/srv/courier' });
    expect(moved.storage.kind === 'sqlite' && moved.storage.path).toBe('/srv/courier/courier.db');
  });

  it('places every file the server writes in dataDir unless a path is given', () => {
    const c = parseConfig({ dataDir: '/srv/courier' });
    expect([
      c.storage.kind === 'sqlite' && c.storage.path,
      c.mls.certificationKeyFile,
      c.transparency.keyFile,
      c.transparency.witnessFile,
      c.exports.dir,
      c.endpoints.subsetSecretFile,
    ]).toEqual([
      '/srv/courier/courier.db',
      '/srv/courier/device-certification.key',
      '/srv/courier/transparency-signing.key',
      '/srv/courier/log-witness.json',
      '/srv/courier/exports',
      '/srv/courier/relay-subset.key',
    ]);
    const explicit = parseConfig({
      dataDir: '/srv/courier',
      storage: { kind: 'sqlite', path: '/db/c.db' },
      transparency: { keyFile: '/keys/t.key' },
    });
    expect(explicit.storage.kind === 'sqlite' && explicit.storage.path).toBe('/db/c.db');
    expect(explicit.transparency.keyFile).toBe('/keys/t.key');
    expect(explicit.transparency.witnessFile).toBe('/srv/courier/log-witness.json');
    expect(parseConfig({}).dev).toBe(false);
  });

  it('rejects unknown keys and wrong kinds, naming each problem', () => {
    expect(() => parseConfig({ prot: 80 })).toThrow(/prot/);
    expect(() => parseConfig({ storage: { kind: 'mysql' } })).toThrow(/storage/);
    expect(() => parseConfig({ delivery: { highWaterBytes: -1 } })).toThrow(/delivery.highWaterBytes/);
    expect(() => parseConfig({ sms: { kind: 'http', url: 'not a url', credentialEnv: 'X' } })).toThrow(
      /sms.url/,
    );
  });

  it('never throws anything but its readable error on arbitrary input', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseConfig(value);
        } catch (error) {
          expect((error as Error).message).toMatch(/^Invalid Courier config:/);
        }
      }),
    );
  });
});
