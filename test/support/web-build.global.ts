/** Vitest global setup: the browser tests load the built web app and desk, so build them first if stale. */
import { ensureWebBuilt } from '../../scripts/build-web.ts';

export default async function setup(): Promise<void> {
  const built = await ensureWebBuilt({ quiet: true });
  if (built.length > 0) process.stdout.write(`built the ${built.join(' and the ')} (packages/*/dist)\n`);
}
