import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'test/**/*.test.ts',
      'bench/**/*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // expect.poll's own default (1 s) is shorter than a loaded CI machine needs for a worker,
    // an MLS commit and a render; a test that needs longer still says so.
    expect: { poll: { timeout: 15_000 } },
    pool: 'forks',
    // Builds the web app (packages/web/dist) and the courier / courier-server commands
    // (packages/{cli,server}/dist) when they are missing or older than their sources.
    globalSetup: ['test/support/web-build.global.ts', 'test/support/commands-build.global.ts'],
  },
});
