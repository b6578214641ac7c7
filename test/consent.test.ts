import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer, type TestUser } from './support/harness.ts';

describe('consent before contact: a stranger who opens a chat learns nothing', () => {
  let server: TestServer;
  let alice: TestUser;
  let stranger: TestUser;
  beforeAll(async () => {
    server = await startTestServer();
    alice = await server.register(nextPhone());
    stranger = await server.register(nextPhone());
    await alice.http.setUsername('alice_consent');
    // Alice has been seen (a last-seen day exists to hide).
    await server.app.storage.accounts.touchLastSeenDay([alice.accountId], Date.UTC(2026, 0, 1));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('opening a direct chat with @username does not make the opener a contact', async () => {
    const { accountId } = await stranger.http.lookup({ username: 'alice_consent' });
    await stranger.http.openDirect(accountId);
    const seen = await stranger.http.lookup({ username: 'alice_consent' });
    expect(seen).not.toHaveProperty('phone');
    expect(seen).not.toHaveProperty('lastSeenDayMs');
  });
});
