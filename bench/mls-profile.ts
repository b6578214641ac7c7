/**
 * Profiles what a stored MLS client pays at N members (`npx tsx bench/mls-profile.ts [members] [out-dir]`):
 * joining from a Welcome, and loading the saved state then processing a commit. Builds the group as
 * bench/mls.ts does (adds in commits of ≤ 500, no copath population), then records a CPU profile
 * (node:inspector) of each step alone and prints the top functions by self time and the step times.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { DeviceStore } from '@courier/cli';
import {
  addMembers,
  createGroup,
  createKeyPackage,
  createMlsClientContext,
  exportGroupStateParts,
  generateDeviceIdentity,
  groupStateChange,
  importGroupStateParts,
  joinGroup,
  MAX_ADDS_PER_COMMIT,
  processMessage,
  selfUpdate,
} from '@courier/mls';

const members = Number(process.argv[2] ?? 5000);
const outDir = process.argv[3] ?? '.';
const context = await createMlsClientContext();
const device = async (i: number) => {
  const identity = await generateDeviceIdentity(
    `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    'd1',
  );
  return { identity, keyPackage: await createKeyPackage(context, identity) };
};
const owner = await device(0);
const others = [];
for (let i = 1; i < members; i++) others.push(await device(i));
const group = await createGroup(context, owner.identity, new TextEncoder().encode(`profile-${members}`));
const added = await addMembers(
  context,
  group,
  others.map((o) => o.keyPackage.keyPackage),
  {
    maxPerCommit: MAX_ADDS_PER_COMMIT,
  },
);
const last = added.at(-1)!;
let ownerGroup = last.group;

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 200 });

async function profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  await session.post('Profiler.start');
  const start = performance.now();
  const result = await work();
  const ms = performance.now() - start;
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(join(outDir, `${name}.cpuprofile`), JSON.stringify(profile));
  const self = new Map<string, number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = profile.timeDeltas ?? [];
  (profile.samples ?? []).forEach((id, i) => {
    const n = byId.get(id)!;
    const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
  });
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25);
  console.log(`\n== ${name}: ${ms.toFixed(1)} ms`);
  for (const [k, v] of top) console.log(`${v.toFixed(1).padStart(8)} ms  ${k}`);
  return result;
}

const joiner = others.at(-1)!;
const joined = await profiled('join', () =>
  joinGroup(context, {
    welcome: last.welcome!,
    ratchetTree: last.ratchetTree!,
    keyPackages: [joiner.keyPackage],
  }),
);
const parts = exportGroupStateParts(joined.group);
const update = await selfUpdate(context, ownerGroup);
ownerGroup = update.group;
await profiled('import_saved', async () => importGroupStateParts(parts));
const loaded = importGroupStateParts(parts);
await profiled('process_update_from_saved', async () => {
  const outcome = await processMessage(context, importGroupStateParts(parts), update.commit);
  if (outcome.kind !== 'commit') throw new Error(outcome.kind);
});
await profiled('process_update_loaded', async () => {
  const outcome = await processMessage(context, loaded, update.commit);
  if (outcome.kind !== 'commit') throw new Error(outcome.kind);
});
session.disconnect();

// Saving the member's state after the commit, cold (nothing exported the new tree yet), into the CLI's
// SQLite store holding the state before it: the change (secret part and changed pages), then the whole
// state as stores wrote it before (every page) into another store.
const afterCommit = await processMessage(context, joined.group, update.commit);
if (afterCommit.kind !== 'commit') throw new Error(afterCommit.kind);
const dir = mkdtempSync(join(tmpdir(), 'courier-mls-profile-'));
try {
  const saveInto = async (name: string, parts: typeof saved, before: typeof saved | undefined) => {
    const store = new DeviceStore(join(dir, `${name}.db`));
    if (before) await store.saveGroup('g', { state: groupStateChange(undefined, before), seq: 1 }, undefined);
    const start = performance.now();
    const state = groupStateChange(before, parts);
    await store.saveGroup('g', { state, seq: 2 }, before ? 1 : undefined);
    const ms = performance.now() - start;
    let bytes = state.secrets.length;
    for (const page of state.pages.values()) bytes += page.length;
    store.close();
    return { ms, bytes };
  };
  const saved = parts;
  const exportStart = performance.now();
  const next = exportGroupStateParts(afterCommit.group, saved);
  const exportMs = performance.now() - exportStart;
  const change = await saveInto('parts', next, saved);
  const whole = await saveInto('whole', next, undefined);
  console.log(
    `\n== save after a commit: export ${exportMs.toFixed(1)} ms; change ${change.bytes} B in ${change.ms.toFixed(1)} ms; whole ${whole.bytes} B in ${whole.ms.toFixed(1)} ms`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
