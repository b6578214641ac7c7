/** Vitest global setup: the browser tests load the built web app, so build it first if it is stale. */
import { ensureWebBuilt } from '../../scripts/build-web.ts';

export default async function setup(): Promise<void> {
  if (await ensureWebBuilt({ quiet: true })) process.stdout.write('built the web app (packages/web/dist)\n');
}
