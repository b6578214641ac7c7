/**
 * Issue 11 item 7: one data folder places every file the server writes, and those files are the
 * server user's alone (folders 0700, files 0600), whatever the umask.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifierKeyString } from '@courier/protocol';
import { buildApp, type ConfigInput, parseConfig } from '@courier/server';
import { ed25519 } from '@noble/curves/ed25519.js';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CapturingSms } from './support/harness.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('the data folder', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const start = async (dataDir: string, more: Omit<ConfigInput, 'dataDir'> = {}, env = {}) => {
    const config = parseConfig({ dataDir, logLevel: 'silent', port: 0, ...more });
    return buildApp(config, {
      clock: { now: () => Date.now() },
      random: (n) => randomBytes(n),
      logger: pino({ level: 'silent' }),
      sms: new CapturingSms(),
      env,
    });
  };

  it('holds the database, its WAL files, the keys and the witness, all private', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'courier-data-'));
    dirs.push(parent);
    const dataDir = join(parent, 'nested', 'data');
    const previous = process.umask(0o022);
    try {
      const app = await start(dataDir);
      await app.close();
    } finally {
      process.umask(previous);
    }
    const files = readdirSync(dataDir).sort();
    expect(files).toEqual(
      expect.arrayContaining([
        'courier.db',
        'device-certification.key',
        'log-witness.json',
        'relay-subset.key',
        'transparency-signing.key',
      ]),
    );
    expect(mode(dataDir)).toBe(0o700);
    for (const file of files) {
      const path = join(dataDir, file);
      // Files are 0600; folders (the media blob store) 0700.
      expect([file, mode(path)]).toEqual([file, statSync(path).isDirectory() ? 0o700 : 0o600]);
    }
  });

  it('keeps the WAL and shared-memory files private while the server runs', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'courier-data-'));
    dirs.push(dataDir);
    const app = await start(dataDir);
    try {
      for (const suffix of ['', '-wal', '-shm'])
        expect(mode(join(dataDir, `courier.db${suffix}`))).toBe(0o600);
    } finally {
      await app.close();
    }
  });

  it('lets two servers with their own data folders start in the same working directory', async () => {
    const first = mkdtempSync(join(tmpdir(), 'courier-data-'));
    const second = mkdtempSync(join(tmpdir(), 'courier-data-'));
    dirs.push(first, second);
    const a = await start(first);
    await a.transparency.append({
      v: 1,
      type: 'policy',
      at: 1,
      policyVersion: 'x',
      policyHash: 'ab'.repeat(32),
    });
    await a.close();
    const b = await start(second);
    await b.close();
    expect(readdirSync(second)).toContain('transparency-signing.key');
  });

  it('takes the signing keys from the environment variables the config names, writing no key file', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'courier-data-'));
    dirs.push(dataDir);
    const transparency = ed25519.utils.randomSecretKey();
    const app = await start(
      dataDir,
      { transparency: { keyEnv: 'T_KEY' }, mls: { certificationKeyEnv: 'C_KEY' } },
      { T_KEY: Buffer.from(transparency).toString('hex'), C_KEY: 'cd'.repeat(32) },
    );
    try {
      expect(app.transparency.verifierKey).toBe(
        verifierKeyString('courier-transparency', ed25519.getPublicKey(transparency)),
      );
    } finally {
      await app.close();
    }
    expect(readdirSync(dataDir)).not.toContain('transparency-signing.key');
    expect(readdirSync(dataDir)).not.toContain('device-certification.key');
  });
});
