import { CourierError, type UserView } from '@courier/protocol';
import { describe, expect, it } from 'vitest';
import { Names } from './names.ts';

/** A server whose answers the test changes, counting lookups. */
function directory(users: Map<string, UserView>) {
  let lookups = 0;
  const http = {
    lookup: async ({ accountId }: { accountId: string }) => {
      lookups += 1;
      const user = users.get(accountId);
      if (!user) throw new CourierError('ACCOUNT_NOT_FOUND');
      return user;
    },
  };
  return { http: http as never, lookups: () => lookups };
}

describe('names of people on the command line', () => {
  it('shows @username, else display name, else a visible number, else words; never the account id', async () => {
    const users = new Map<string, UserView>([
      ['u_a', { accountId: 'u_a', username: 'alice_1', displayName: 'Alice' }],
      ['u_b', { accountId: 'u_b', username: null, displayName: 'Bob' }],
      ['u_c', { accountId: 'u_c', username: null, displayName: '', phone: '+442079460958' }],
      ['u_d', { accountId: 'u_d', username: null, displayName: '' }],
    ]);
    const names = new Names(directory(users).http);
    expect(await names.of('u_a')).toBe('@alice_1');
    expect(await names.of('u_b')).toBe('Bob');
    expect(await names.of('u_c')).toBe('+442079460958');
    expect(await names.of('u_d')).toBe('someone with no name yet');
    expect(await names.of('u_gone')).toBe('a deleted account');
  });

  it('a long-running command sees a name set after it started (looked up again after a minute)', async () => {
    const users = new Map<string, UserView>([['u_b', { accountId: 'u_b', username: null, displayName: '' }]]);
    const server = directory(users);
    let now = 0;
    const names = new Names(server.http, () => now);
    expect(await names.of('u_b')).toBe('someone with no name yet');
    users.set('u_b', { accountId: 'u_b', username: 'bob_22', displayName: 'Bob' });
    now = 59_000;
    expect(await names.of('u_b')).toBe('someone with no name yet');
    expect(server.lookups()).toBe(1);
    now = 60_000;
    expect(await names.of('u_b')).toBe('@bob_22');
    expect(server.lookups()).toBe(2);
  });
});
