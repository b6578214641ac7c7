/**
 * Starts a CensorScenario (the core and `argv[2]` relays in network namespaces), prints what it
 * started as one JSON line, then ends as `argv[3]` says: `wait` (until a signal) or `crash` (an
 * uncaught exception). For test/censorship/netns-cleanup.test.ts.
 */
import { CensorScenario } from './netns-scenario.ts';

const scenario = await CensorScenario.start(Number(process.argv[2] ?? 1));
const started = {
  namespaces: [scenario.net.censorNs, scenario.net.serverNs],
  pids: scenario.children.map((c) => c.pid),
  dir: scenario.dir,
};
process.stdout.write(`${JSON.stringify(started)}\n`);
if (process.argv[3] === 'crash')
  setTimeout(() => {
    throw new Error('crash while the scenario runs');
  }, 10);
else setInterval(() => {}, 1000);
