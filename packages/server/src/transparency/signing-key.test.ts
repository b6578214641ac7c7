import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServerKey } from './signing-key.ts';

const dir = mkdtempSync(join(tmpdir(), 'courier-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('server keys, referenced by file or by environment variable', () => {
  const hex = 'ab'.repeat(32);

  it('creates a missing key file 0600 in a 0700 folder, then reads the same key', () => {
    const file = join(dir, 'new', 'signing.key');
    const key = loadServerKey({ file }, {});
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'new')).mode & 0o777).toBe(0o700);
    expect(loadServerKey({ file }, {})).toEqual(key);
    expect(readFileSync(file, 'utf8').trim()).toBe(Buffer.from(key).toString('hex'));
  });

  it('reads the key from the variable the config names, never creating a file', () => {
    const file = join(dir, 'unused.key');
    expect(loadServerKey({ file, env: 'COURIER_KEY' }, { COURIER_KEY: `${hex}\n` })).toEqual(
      Uint8Array.from(Buffer.from(hex, 'hex')),
    );
    expect(() => statSync(file)).toThrow();
  });

  it('refuses a missing variable or a malformed key with SERVER_KEY_INVALID, naming where', () => {
    expect(() => loadServerKey({ file: 'x', env: 'COURIER_KEY' }, {})).toThrow(
      expect.objectContaining({
        code: 'SERVER_KEY_INVALID',
        message: expect.stringContaining('COURIER_KEY'),
      }),
    );
    expect(() => loadServerKey({ file: 'x', env: 'COURIER_KEY' }, { COURIER_KEY: 'nope' })).toThrow(
      expect.objectContaining({ code: 'SERVER_KEY_INVALID' }),
    );
    const bad = join(dir, 'bad.key');
    writeFileSync(bad, 'not a key');
    expect(() => loadServerKey({ file: bad }, {})).toThrow(
      expect.objectContaining({ code: 'SERVER_KEY_INVALID' }),
    );
  });
});
