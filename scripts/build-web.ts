/**
 * Builds the web app (packages/web → packages/web/dist) with Vite when the build is missing or older
 * than any of its sources (the app, and the SDK, MLS and protocol packages it bundles). `npm start`
 * runs it first (prestart) and the test run calls `ensureWebBuilt` from its global setup, so a
 * newcomer's `npm install && npm start` or `npm install && npm test` gets a fresh app without an
 * extra step. `tsx scripts/build-web.ts --force` rebuilds regardless.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const web = join(root, 'packages/web');
const stamp = join(web, 'dist/index.html');
const SOURCES = [
  'packages/web/src',
  'packages/web/index.html',
  'packages/web/transparency.html',
  'packages/web/vite.config.ts',
  'packages/web/package.json',
  'packages/sdk/src',
  'packages/mls/src',
  'packages/protocol/src',
];

/** The newest modification time among the files under a path (test files do not count). */
function newest(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return 0;
  if (!stat.isDirectory()) return /\.test\.tsx?$/.test(path) ? 0 : stat.mtimeMs;
  let latest = 0;
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

/** True when dist exists and is newer than every source. */
export function webBuildIsFresh(): boolean {
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  return SOURCES.every((source) => newest(join(root, source)) <= built);
}

/** Builds the app unless the build is fresh; returns whether it built. */
export async function ensureWebBuilt(options: { force?: boolean; quiet?: boolean } = {}): Promise<boolean> {
  if (!options.force && webBuildIsFresh()) return false;
  const { build, createLogger } = await import('vite');
  // @hpke/common imports Node's `crypto` only as a fallback for the Web Crypto API, which browsers
  // and workers have: Vite's notice that it left it out says nothing a person can act on.
  const logger = createLogger(options.quiet ? 'error' : 'warn');
  const warn = logger.warn.bind(logger);
  logger.warn = (message, warnOptions) => {
    if (!message.includes('has been externalized for browser compatibility')) warn(message, warnOptions);
  };
  await build({
    root: web,
    configFile: join(web, 'vite.config.ts'),
    customLogger: logger,
    logLevel: options.quiet ? 'error' : 'warn',
  });
  return true;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const built = await ensureWebBuilt({ force: process.argv.includes('--force') });
  process.stdout.write(
    built
      ? `web app built into packages/web/dist in ${Date.now() - started} ms\n`
      : 'web app is up to date (packages/web/dist is newer than its sources)\n',
  );
}
