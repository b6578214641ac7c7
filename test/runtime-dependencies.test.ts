/**
 * Issue 11 item 13: `npm install --omit=dev && npm start` must work, so what `npm start` runs and
 * every module the server imports at run time must come from `dependencies`, never from
 * `devDependencies` (or from a dev tool that happens to bring it along). This walks the server's
 * import graph from main.ts, through the workspace packages, and checks each bare import against
 * the dependencies of the package that imports it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const rootPackage = readJson(join(root, 'package.json'));

/** The package.json folder that holds a source file. */
function packageDirOf(file: string): string {
  let dir = dirname(file);
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** `@scope/name/deep` → `@scope/name`; `name/deep` → `name`. */
const packageName = (specifier: string) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;

const IMPORT = /(?:^|\n)\s*(?:import|export)\s(?:type\s)?[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

/** Every bare import reachable from the server's entry point, with the package that imports it. */
function runtimeImports(): { specifier: string; importer: string }[] {
  const workspaces = new Map<string, string>();
  for (const dir of rootPackage.workspaces as string[]) {
    workspaces.set(readJson(join(root, dir, 'package.json')).name, join(root, dir));
  }
  const seen = new Set<string>();
  const found: { specifier: string; importer: string }[] = [];
  const queue = [join(root, 'packages/server/src/main.ts')];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      // Type-only imports are erased: they need nothing at run time.
      if (/^\s*(?:import|export)\s+type\s/.test(match[0].trimStart())) continue;
      const specifier = (match[1] ?? match[2])!;
      if (specifier.startsWith('.')) {
        queue.push(resolve(dirname(file), specifier));
      } else if (specifier.startsWith('node:') || builtinModules.includes(specifier)) {
        // Node itself.
      } else if (workspaces.has(packageName(specifier))) {
        const dir = workspaces.get(packageName(specifier))!;
        const exported = readJson(join(dir, 'package.json')).exports?.['.'];
        if (typeof exported === 'string' && exported.endsWith('.ts')) queue.push(join(dir, exported));
        found.push({ specifier, importer: packageDirOf(file) });
      } else {
        found.push({ specifier, importer: packageDirOf(file) });
      }
    }
  }
  return found;
}

describe('what npm start needs at run time', () => {
  // `npm install --omit=dev` runs postinstall (patch-package patches ts-mls, a run-time library).
  it.each(['prestart', 'start', 'postinstall'])(
    'runs the %s script through a package in dependencies',
    (script) => {
      const command = (rootPackage.scripts[script] as string).split(' ')[0]!;
      expect(command === 'node' || Object.hasOwn(rootPackage.dependencies ?? {}, command)).toBe(true);
      expect(Object.hasOwn(rootPackage.devDependencies ?? {}, command)).toBe(false);
    },
  );

  it('imports only packages that the importing package lists in its dependencies', () => {
    const missing = new Set<string>();
    for (const { specifier, importer } of runtimeImports()) {
      const declared = readJson(join(importer, 'package.json')).dependencies ?? {};
      if (!Object.hasOwn(declared, packageName(specifier))) {
        missing.add(`${packageName(specifier)} (imported by ${importer.slice(root.length) || '.'})`);
      }
    }
    expect([...missing].sort()).toEqual([]);
  });

  // prestart builds the web app (scripts/build-web.ts): the bundler and everything the app bundles
  // must install with --omit=dev too.
  it('builds the web app at start with packages from dependencies only', () => {
    const web = readJson(join(root, 'packages/web/package.json'));
    const config = readFileSync(join(root, 'packages/web/vite.config.ts'), 'utf8');
    const builder = readFileSync(join(root, 'scripts/build-web.ts'), 'utf8');
    const needed = new Set<string>();
    for (const text of [config, builder])
      for (const match of text.matchAll(IMPORT)) {
        const specifier = (match[1] ?? match[2])!;
        if (!specifier.startsWith('.') && !specifier.startsWith('node:')) needed.add(packageName(specifier));
      }
    expect([...needed].sort()).toEqual(['vite']);
    for (const name of needed) expect(Object.hasOwn(web.dependencies ?? {}, name)).toBe(true);
  });
});
