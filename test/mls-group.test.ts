import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMlsGroup } from '../bench/mls-group.ts';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';

/**
 * The large-group scenario of `npm run bench -- mls-group` (5,000 members, commits of 500) at a size
 * the test suite affords: 40 members added in commits of 15, so batching, Welcome splitting and the
 * served tree are all exercised; a member joins, reads, sees a removal and reads on.
 */
describe('a large group through the delivery service (scaled down)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('is created in batched commits, joined, written to, and loses a member', async () => {
    const users = [];
    for (let i = 0; i < 40; i++) users.push(await server.register(nextPhone()));
    const result = await runMlsGroup(server.url, users, { members: 40, perCommit: 15 });
    expect(result.received).toEqual(['hello, everyone', 'one fewer']);
    expect(result.removedStillListed).toBe(false);
    expect(result.memberDevices).toBe(39);
    // Three add commits (15 + 15 + 9), then the removal.
    expect(result.epochAfterRemove).toBe(4);
  });
});
