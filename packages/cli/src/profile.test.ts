import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

  it('erases everything it keeps on disk (decrypted history included) and nothing else', async () => {
    const home = join(dir, 'erase');
    const profile = new Profile({ home }, {});
    profile.saveSession({
      server: 'http://s',
      token: 't',
      accountId: 'u_1',
      deviceId: 'd_1',
      phone: '+441234567890',
    });
    profile.rememberServer('http://s');
    writeFileSync(join(home, 'endpoints.json'), '{}');
    writeFileSync(join(home, 'transparency-main.json'), '{}');
    const store = profile.deviceStore();
    await store.addMessages([
      {
        groupId: 'g_1',
        seq: 1,
        clientMsgId: 'c_1',
        senderAccountId: 'u_2',
        senderDeviceId: 'd_2',
        sentAtMs: 0,
        text: 'a secret, decrypted',
        outgoing: false,
      },
    ]);
    store.addDraft({ clientMsgId: 'c_2', chat: '@bob', text: 'a draft' });
    // An older device of this profile (signed in before): its store goes too.
    mkdirSync(join(home, 'devices'), { recursive: true });
    writeFileSync(join(home, 'devices', 'd_0.db'), 'old device');
    const { removed, left } = profile.eraseLocalData();
    store.close();
    expect(left).toEqual([]);
    expect(removed).toContain(home);
    expect(existsSync(home)).toBe(false);

    // A file the person put in the folder is not Courier's to erase: the rest goes, it stays.
    const mixed = new Profile({ home: join(dir, 'mixed') }, {});
    mixed.saveSession({
      server: 'http://s',
      token: 't',
      accountId: 'u_1',
      deviceId: 'd_1',
      phone: '+441234567890',
    });
    mixed.deviceStore().close();
    writeFileSync(join(mixed.dir, 'notes.txt'), 'mine');
    expect(mixed.eraseLocalData().left).toEqual([join(mixed.dir, 'notes.txt')]);
    expect(readdirSync(mixed.dir)).toEqual(['notes.txt']);
  });

  it('forgets a signed-out device: its session and its store, not another device of the profile', () => {
    const profile = new Profile({ home: join(dir, 'forget') }, {});
    profile.saveSession({
      server: 'http://s',
      token: 't',
      accountId: 'u_1',
      deviceId: 'd_2',
      phone: '+441234567890',
    });
    const store = profile.deviceStore();
    store.addDraft({ clientMsgId: 'c_1', chat: '@bob', text: 'a draft' });
    store.close();
    writeFileSync(join(profile.dir, 'devices', 'd_2.db-wal'), 'wal');
    writeFileSync(join(profile.dir, 'devices', 'd_1.db'), 'an older device, left to eraseLocalData');
    const removed = profile.forgetDevice();
    expect(removed).toContain(join(profile.dir, 'devices', 'd_2.db'));
    expect(removed).toContain(join(profile.dir, 'devices', 'd_2.db-wal'));
    expect(profile.session()).toBeUndefined();
    expect(readdirSync(join(profile.dir, 'devices'))).toEqual(['d_1.db']);
    expect(profile.forgetDevice()).toEqual([]);
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
