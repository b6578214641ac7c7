import { mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER, Profile } from './profile.ts';

describe('a CLI profile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-profile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is found by --home, then --profile, then COURIER_HOME, then ~/.courier/default', () => {
    const env = { COURIER_HOME: join(dir, 'env') };
    expect(new Profile({ home: join(dir, 'h'), profile: 'p' }, env).dir).toBe(join(dir, 'h'));
    expect(new Profile({ profile: 'work' }, env).dir).toBe(join(homedir(), '.courier', 'work'));
    expect(new Profile({}, env).dir).toBe(join(dir, 'env'));
    expect(new Profile({}, { COURIER_HOME: '' }).dir).toBe(join(homedir(), '.courier', 'default'));
  });

  it('remembers its server; --server or COURIER_SERVER win for one command', () => {
    const home = join(dir, 'server');
    expect(new Profile({ home }, {}).server()).toBe(DEFAULT_SERVER);
    new Profile({ home }, {}).rememberServer('http://courier.example:9000');
    expect(new Profile({ home }, {}).server()).toBe('http://courier.example:9000');
    expect(new Profile({ home }, { COURIER_SERVER: 'http://env:1' }).server()).toBe('http://env:1');
    expect(new Profile({ home, server: 'http://flag:2' }, { COURIER_SERVER: 'http://env:1' }).server()).toBe(
      'http://flag:2',
    );
  });

  it('lets one long-running command hold the device connection at a time', () => {
    const profile = new Profile({ home: join(dir, 'lock') }, {});
    const release = profile.claimConnection('listen');
    expect(() => profile.claimConnection('chat')).toThrow(`another courier (pid ${process.pid})`);
    release();
    profile.claimConnection('chat')();
  });

  it('says how to sign in when there is no session', () => {
    expect(() => new Profile({ home: join(dir, 'none') }, {}).requireSession()).toThrow(
      expect.objectContaining({
        code: 'AUTH_REQUIRED',
        message: expect.stringContaining('courier register'),
      }),
    );
  });
});
