/**
 * Builds the two browser apps with Vite, each when its build is missing or older than any of its
 * sources: the web app (packages/web → packages/web/dist; the app, and the SDK, MLS and protocol
 * packages it bundles) and the legal desk (packages/desk → packages/desk/dist; the desk, the
 * protocol package and the server's request parser it bundles). `npm start` runs it first
 * (prestart) and the test run calls `ensureWebBuilt` from its global setup, so a newcomer's
 * `npm install && npm start` or `npm install && npm test` gets fresh apps without an extra step.
 * `tsx scripts/build-web.ts --force` rebuilds both regardless.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

/** One Vite app of the repository: where it is, and every source its bundle is made from. */
interface BrowserApp {
  name: string;
  dir: string;
  sources: string[];
}

export const BROWSER_APPS: readonly BrowserApp[] = [
  {
    name: 'web app',
    dir: 'packages/web',
    sources: [
      'packages/web/src',
      'packages/web/index.html',
      'packages/web/transparency.html',
      'packages/web/vite.config.ts',
      'packages/web/package.json',
      'packages/sdk/src',
      'packages/mls/src',
      'packages/protocol/src',
    ],
  },
  {
    name: 'legal desk',
    dir: 'packages/desk',
    sources: [
      'packages/desk/src',
      'packages/desk/index.html',
      'packages/desk/vite.config.ts',
      'packages/desk/package.json',
      'packages/protocol/src',
      'packages/server/src/legal/legal-request.ts',
      'packages/server/src/legal/iso-countries.ts',
    ],
  },
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

/** True when the app's dist exists and is newer than every one of its sources. */
function isFresh(app: BrowserApp): boolean {
  const stamp = join(root, app.dir, 'dist/index.html');
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  return app.sources.every((source) => newest(join(root, source)) <= built);
}

/** True when both apps' builds are newer than every source. */
export function webBuildIsFresh(): boolean {
  return BROWSER_APPS.every(isFresh);
}

/** Builds each app whose build is stale (or all, with `force`); returns the names of those it built. */
export async function ensureWebBuilt(options: { force?: boolean; quiet?: boolean } = {}): Promise<string[]> {
  const stale = BROWSER_APPS.filter((app) => options.force || !isFresh(app));
  if (stale.length === 0) return [];
  const { build, createLogger } = await import('vite');
  // @hpke/common imports Node's `crypto` only as a fallback for the Web Crypto API, which browsers
  // and workers have: Vite's notice that it left it out says nothing a person can act on.
  const logger = createLogger(options.quiet ? 'error' : 'warn');
  const warn = logger.warn.bind(logger);
  logger.warn = (message, warnOptions) => {
    if (!message.includes('has been externalized for browser compatibility')) warn(message, warnOptions);
  };
  // A production build whoever calls: under vitest NODE_ENV is `test`, and Vite then compiled JSX in
  // development form (each element with its source file and line), 43 KB more of app-main.js, which
  // the `web` bench then served and counted when the test run had built last.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    for (const app of stale) {
      await build({
        root: join(root, app.dir),
        configFile: join(root, app.dir, 'vite.config.ts'),
        customLogger: logger,
        logLevel: options.quiet ? 'error' : 'warn',
      });
    }
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  return stale.map((app) => app.name);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const built = await ensureWebBuilt({ force: process.argv.includes('--force') });
  process.stdout.write(
    built.length > 0
      ? `built the ${built.join(' and the ')} (packages/*/dist) in ${Date.now() - started} ms\n`
      : 'the web app and the legal desk are up to date (their dist folders are newer than their sources)\n',
  );
}
