/**
 * Starts a CensorScenario (the core and `argv[2]` relays in network namespaces), prints what it
 * started as one JSON line, then ends as `argv[3]` says: `wait` (until a signal) or `crash` (an
 * uncaught exception, on SIGUSR2). For test/censorship/netns-cleanup.test.ts.
 */
import { CensorScenario } from './netns-scenario.ts';

const scenario = await CensorScenario.start(Number(process.argv[2] ?? 1));
const started = {
  namespaces: [scenario.net.censorNs, scenario.net.serverNs],
  pids: scenario.children.map((c) => c.pid),
  dir: scenario.dir,
};
process.stdout.write(`${JSON.stringify(started)}\n`);
// `crash` waits for SIGUSR2, sent once the test has seen the scenario running (a crash on a timer
// could come, and clean up, before the test looked).
if (process.argv[3] === 'crash')
  process.on('SIGUSR2', () => {
    throw new Error('crash while the scenario runs');
  });
setInterval(() => {}, 1000);
