// @ts-check
/**
 * The `courier` and `courier-server` commands as compiled JavaScript. esbuild bundles each command's
 * TypeScript (packages/cli/src/main.ts, packages/server/src/main.ts) into packages/<pkg>/dist/<build>/,
 * split into chunks so that each subcommand's modules load only when it runs. The bins
 * (packages/cli/bin/courier.js, packages/server/bin/courier-server.js) start the newest build and
 * rebuild first when any file it was built from changed since (every input, dependencies included,
 * is listed in dist/current.json): editing a source and running `npx courier` just works.
 * `npm install` builds both (`prepare`), and the test run's global setup does too.
 *
 * Plain JavaScript, because it runs before anything can compile TypeScript. Each build goes to a
 * folder of its own and `current.json` is replaced atomically, so two processes that rebuild at once
 * never load a half-written chunk; the three newest builds are kept for processes still running.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

/**
 * @typedef {{ entry: string, out: string, external: 'native' | 'packages' }} Target
 * The CLI bundles its dependencies too (fewer files to find and read at each start) except native
 * addons; the server keeps node_modules packages external, loaded by Node as they are.
 */
/** @type {Record<'courier' | 'courier-server', Target>} */
export const TARGETS = {
  courier: { entry: 'packages/cli/src/main.ts', out: 'packages/cli/dist', external: 'native' },
  'courier-server': {
    entry: 'packages/server/src/main.ts',
    out: 'packages/server/dist',
    external: 'packages',
  },
};

/** Packages with native addons: loaded from node_modules, never bundled. */
const NATIVE = ['better-sqlite3', 'argon2', 'pg-native', 'bufferutil', 'utf-8-validate'];

/** @typedef {{ dir: string, startedAt: number, inputs: string[] }} Manifest */

/**
 * @param {Target} target
 * @returns {Manifest | undefined}
 */
function manifest(target) {
  try {
    return JSON.parse(readFileSync(join(root, target.out, 'current.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The current build's folder when it is newer than every file it was built from, else undefined.
 * @param {keyof typeof TARGETS} name
 */
export function freshBuild(name) {
  const target = TARGETS[name];
  const current = manifest(target);
  if (current === undefined) return undefined;
  for (const input of current.inputs) {
    const stat = statSync(join(root, input), { throwIfNoEntry: false });
    if (stat === undefined || stat.mtimeMs > current.startedAt) return undefined;
  }
  const dir = join(root, target.out, current.dir);
  return statSync(join(dir, `${name}.js`), { throwIfNoEntry: false }) ? dir : undefined;
}

/**
 * `import.meta.url` of a bundled module is the bundle's; our sources read files beside them (the
 * privacy policies, the web app's folder), so each one's own URL is written in at build time.
 * @type {import('esbuild').Plugin}
 */
const ownUrls = {
  name: 'own-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.tsx?$/ }, (args) => {
      if (args.path.includes(`${join('/', 'node_modules', '/')}`)) return undefined;
      const source = readFileSync(args.path, 'utf8');
      return {
        contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
        loader: args.path.endsWith('x') ? 'tsx' : 'ts',
      };
    });
  },
};

/**
 * Leaves packages from node_modules to Node (imported from the bundle as they are) and bundles the
 * workspace's own (@courier/*), whose exports are TypeScript that Node cannot load.
 * @type {import('esbuild').Plugin}
 */
const packagesExternal = {
  name: 'packages-external',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@courier/') ? undefined : { path: args.path, external: true },
    );
  },
};

/**
 * Builds one command into a new folder and makes it the current build.
 * @param {keyof typeof TARGETS} name
 * @returns {Promise<string>} the build's folder
 */
export async function buildCommand(name) {
  const target = TARGETS[name];
  const { build } = await import('esbuild');
  // Inputs edited from now on make this build stale (the clock of the files, not of the build).
  const startedAt = Date.now() - 1;
  const dirName = `build-${startedAt}-${process.pid}`;
  const outdir = join(root, target.out, dirName);
  const result = await build({
    entryPoints: { [name]: join(root, target.entry) },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: NATIVE,
    // Bundled CommonJS modules call require() for Node's own modules.
    banner: {
      js: "import { createRequire as __courierRequire } from 'node:module'; const require = __courierRequire(import.meta.url);",
    },
    plugins: target.external === 'packages' ? [ownUrls, packagesExternal] : [ownUrls],
    metafile: true,
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'error',
    legalComments: 'none',
  });
  const inputs = [
    ...Object.keys(result.metafile.inputs).map((input) => relative(root, resolve(root, input))),
    relative(root, fileURLToPath(import.meta.url)),
    'package.json',
    dirname(target.entry).replace(/src$/, 'package.json'),
  ];
  writeFileSync(join(outdir, 'package.json'), '{ "type": "module" }\n');
  const temporary = join(root, target.out, `current.json.${process.pid}.tmp`);
  writeFileSync(temporary, JSON.stringify({ dir: dirName, startedAt, inputs }));
  renameSync(temporary, join(root, target.out, 'current.json'));
  pruneOldBuilds(target);
  return outdir;
}

/** @param {Target} target */
function pruneOldBuilds(target) {
  const builds = readdirSync(join(root, target.out))
    .filter((entry) => entry.startsWith('build-'))
    .sort((a, b) => Number(b.split('-')[1]) - Number(a.split('-')[1]));
  for (const old of builds.slice(3)) rmSync(join(root, target.out, old), { recursive: true, force: true });
}

/**
 * Builds the command unless its current build is fresh; returns whether it built.
 * @param {keyof typeof TARGETS} name
 */
export async function ensureCommandBuilt(name, force = false) {
  if (!force && freshBuild(name) !== undefined) return false;
  mkdirSync(join(root, TARGETS[name].out), { recursive: true });
  await buildCommand(name);
  return true;
}

/**
 * What a bin runs: the fresh build, else a new one; without esbuild (an install without
 * devDependencies) the TypeScript sources through tsx, slower but the same command.
 * @param {keyof typeof TARGETS} name
 */
export async function launch(name) {
  let dir = freshBuild(name);
  if (dir === undefined) {
    try {
      await import('esbuild');
    } catch {
      const { register } = await import('tsx/esm/api');
      register();
      await import(pathToFileURL(join(root, TARGETS[name].entry)).href);
      return;
    }
    dir = await buildCommand(name);
  }
  await import(pathToFileURL(join(dir, `${name}.js`)).href);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const force = process.argv.includes('--force');
  try {
    await import('esbuild');
  } catch {
    // `prepare` must not fail an install: the bins then run the sources through tsx.
    process.stdout.write('esbuild is not installed: courier and courier-server run through tsx (slower)\n');
    process.exit(0);
  }
  for (const name of /** @type {const} */ (['courier', 'courier-server'])) {
    const started = Date.now();
    const built = await ensureCommandBuilt(name, force);
    process.stdout.write(
      built
        ? `${name} built into ${TARGETS[name].out} in ${Date.now() - started} ms\n`
        : `${name} is up to date (${TARGETS[name].out})\n`,
    );
  }
}
