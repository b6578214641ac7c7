/**
 * Starts `courier-server serve` through spawnServer, prints its pid, then waits for a signal or
 * (`crash`) throws: for test/support/exit-cleanup.test.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnServer } from './server-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'courier-hold-'));
const server = await spawnServer(
  {
    COURIER_SQLITE_PATH: join(dir, 'courier.db'),
    COURIER_SMS_OUTBOX: join(dir, 'sms.jsonl'),
    COURIER_TRANSPARENCY_KEY: join(dir, 'key'),
    COURIER_CERTIFICATION_KEY: join(dir, 'certification.key'),
  },
  await freePort(),
);
process.stdout.write(`${JSON.stringify({ pid: server.child.pid, dir })}\n`);
if (process.argv[2] === 'crash')
  setTimeout(() => {
    throw new Error('crash while the server runs');
  }, 10);
else setInterval(() => {}, 1000);
