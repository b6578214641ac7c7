/**
 * Vitest global setup: tests run `courier` (and may run `courier-server`) through their bins, which
 * start the compiled commands; build them once here when stale, so that test processes started in
 * parallel do not each rebuild (scripts/command-bundle.js).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

export default function setup(): void {
  const said = execFileSync(process.execPath, ['scripts/command-bundle.js'], { cwd: root, encoding: 'utf8' });
  if (said.includes(' built ')) process.stdout.write(said);
}
