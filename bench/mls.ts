/**
 * The MLS library workload (`npm run bench -- mls [--members N] [--runs N]`): packages/mls alone, in
 * this process, no server. For each group size: the owner creates the group and adds everyone in
 * commits of ≤ 500; the last member added joins from its Welcome with the tree served apart. The owner's
 * first commit with a path (a self-update) goes into the freshly built tree, whose parent nodes are all
 * blank: it encrypts to every other member (`first_commit_ms`). Then the tree is populated along the
 * owner's copath: the first member of each subtree beside the owner's path (leaves 4096, 2048, …, 4, 2
 * at 5,000 members) joins from its own Welcome, catches up and commits a self-update, which fills that
 * subtree's root (`populate_s`). In that tree the owner adds one member, removes it and updates itself,
 * and the joined member processes each commit (the update also from its saved state, 7 times, as a client with a
 * store does); the owner encrypts 21 messages of 200 bytes that the member decrypts (medians); the member's saved state
 * is measured: what saving into the CLI's SQLite device store writes and costs after the commit and after
 * each message (`save_after_*`, the export included; `export_after_*_ms`: the export's share).
 */
import {
  addMembers,
  createGroup,
  createKeyPackage,
  createMlsClientContext,
  encryptMessage,
  exportGroupState,
  exportGroupStateParts,
  type GroupStateParts,
  generateDeviceIdentity,
  groupStateChange,
  importGroupState,
  joinGroup,
  MAX_ADDS_PER_COMMIT,
  type MlsClientContext,
  type MlsGroup,
  processMessage,
  removeMembers,
  selfUpdate,
} from '@courier/mls';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceStore } from '@courier/cli';
import { type Figure, progress, round } from './figure.ts';
import { median } from './server-proc.ts';

export const MLS_SIZES = [2, 1000, 5000];

/** Loads of the saved state that each process the same commit; process_update_from_saved_ms is their median. */
const FROM_SAVED = 7;

/** Application messages sent and read per run; encrypt_ms and decrypt_ms are their medians. */
const MESSAGES = 21;

const FIGURES = [
  ['create_and_add_s', 's'],
  ['join_s', 's'],
  ['first_commit_ms', 'ms'],
  ['process_first_commit_ms', 'ms'],
  ['populate_s', 's'],
  ['commit_add_ms', 'ms'],
  ['process_add_ms', 'ms'],
  ['commit_remove_ms', 'ms'],
  ['process_remove_ms', 'ms'],
  ['commit_update_ms', 'ms'],
  ['process_update_ms', 'ms'],
  ['process_update_from_saved_ms', 'ms'],
  ['process_update_from_saved_first_ms', 'ms'],
  ['encrypt_ms', 'ms'],
  ['decrypt_ms', 'ms'],
  ['save_after_message_bytes', 'B'],
  ['save_after_message_ms', 'ms'],
  ['save_after_commit_bytes', 'B'],
  ['save_after_commit_ms', 'ms'],
  ['export_after_message_ms', 'ms'],
  ['export_after_commit_ms', 'ms'],
  ['state_bytes', 'B'],
  ['state_export_ms', 'ms'],
  ['state_import_ms', 'ms'],
] as const;

type FigureName = (typeof FIGURES)[number][0];

const now = () => performance.now();

async function timed<T>(work: () => Promise<T> | T): Promise<[T, number]> {
  const start = now();
  const result = await work();
  return [result, now() - start];
}

async function device(context: MlsClientContext, i: number) {
  const identity = await generateDeviceIdentity(
    `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    'd1',
  );
  return { identity, keyPackage: await createKeyPackage(context, identity) };
}

async function processed(context: MlsClientContext, group: MlsGroup, bytes: Uint8Array, kind: string) {
  const outcome = await processMessage(context, group, bytes);
  if (outcome.kind !== kind) {
    throw new Error(
      `expected ${kind}, got ${outcome.kind}${outcome.kind === 'failed' ? `: ${outcome.code} ${outcome.message}` : ''}`,
    );
  }
  return outcome;
}

/**
 * The first member of each subtree beside leaf 0's direct path, largest subtree first (its commit then
 * encrypts to the fewest blank-rooted subtrees): leaves 2^k for k ≥ 1 below the joiner's leaf.
 */
export function copathPopulators(members: number): number[] {
  const leaves: number[] = [];
  for (let leaf = 2; leaf < members - 1; leaf *= 2) leaves.unshift(leaf);
  return leaves;
}

/**
 * Saves a group into a device store as a client does after processing (SecureClient.save): export the
 * parts (unchanged pages are the saved arrays), then one save of the change over the version read. The
 * time both take and the bytes handed to the store (the secret part and the changed pages).
 */
async function storeSave(
  store: DeviceStore,
  group: MlsGroup,
  saved: { version: number; parts: GroupStateParts } | undefined,
  seq: number,
): Promise<{ ms: number; exportMs: number; bytes: number; version: number; parts: GroupStateParts }> {
  const start = now();
  const parts = exportGroupStateParts(group, saved?.parts);
  const exportMs = now() - start;
  const state = groupStateChange(saved?.parts, parts);
  if (!(await store.saveGroup('bench', { state, seq }, saved?.version)))
    throw new Error('store save refused');
  const ms = now() - start;
  let bytes = state.secrets.length;
  for (const page of state.pages.values()) bytes += page.length;
  return { ms, exportMs, bytes, version: (saved?.version ?? 0) + 1, parts };
}

/** One run at one size: the figures by name (seconds or milliseconds or bytes, unrounded). */
export async function runMlsOnce(members: number): Promise<Record<FigureName, number>> {
  if (members < 2) throw new Error('an MLS group bench needs at least 2 members');
  const context = await createMlsClientContext();
  const t0 = now();
  const owner = await device(context, 0);
  const others: Awaited<ReturnType<typeof device>>[] = [];
  for (let i = 1; i < members; i++) others.push(await device(context, i));
  const extra = await device(context, members);
  progress(`mls (${members}): ${members} key packages in ${round((now() - t0) / 1000)} s`);

  const out = {} as Record<FigureName, number>;
  const [added, createMs] = await timed(async () => {
    const group = await createGroup(context, owner.identity, new TextEncoder().encode(`bench-${members}`));
    return addMembers(
      context,
      group,
      others.map((o) => o.keyPackage.keyPackage),
      { maxPerCommit: MAX_ADDS_PER_COMMIT },
    );
  });
  out.create_and_add_s = createMs / 1000;
  let ownerGroup = added.at(-1)!.group;
  progress(
    `mls (${members}): created and added in ${added.length} commit(s), ${round(createMs / 1000, 2)} s`,
  );

  const joiner = others.at(-1)!;
  let last: (typeof added)[number] | undefined = added.at(-1)!;
  // The joiner is another device: its own context, whose checks have imported none of the members' keys
  // (the owner's context imported them all while adding).
  const joinerContext = await createMlsClientContext();
  const [joined, joinMs] = await timed(() =>
    joinGroup(joinerContext, {
      welcome: last!.welcome!,
      ratchetTree: last!.ratchetTree!,
      keyPackages: [joiner.keyPackage],
    }),
  );
  out.join_s = joinMs / 1000;
  last = undefined;
  let member = joined.group;
  progress(`mls (${members}): joined in ${round(joinMs / 1000, 2)} s`);

  // The populators (see the header) join from the Welcome of the commit that added them and catch up.
  const populators: MlsGroup[] = [];
  for (const leaf of copathPopulators(members)) {
    const batch = Math.floor((leaf - 1) / MAX_ADDS_PER_COMMIT);
    let group = (
      await joinGroup(context, {
        welcome: added[batch]!.welcome!,
        ratchetTree: added[batch]!.ratchetTree!,
        keyPackages: [others[leaf - 1]!.keyPackage],
      })
    ).group;
    if (group.ownLeafIndex !== leaf)
      throw new Error(`populator expected at leaf ${leaf}, is at ${group.ownLeafIndex}`);
    for (const later of added.slice(batch + 1))
      group = (await processed(context, group, later.commit, 'commit')).group;
    populators.push(group);
  }
  // The set-up's key packages and the states the adds left behind are not part of a client: let them go
  // before the figures (a client holds one state per group; with them, every collection in the timed steps
  // marked ten extra states and 5,000 private key packages).
  others.length = 0;
  added.length = 0;

  const [first, firstMs] = await timed(() => selfUpdate(context, ownerGroup));
  out.first_commit_ms = firstMs;
  ownerGroup = first.group;
  const [afterFirst, processFirstMs] = await timed(() => processed(context, member, first.commit, 'commit'));
  out.process_first_commit_ms = processFirstMs;
  member = afterFirst.group;
  for (let i = 0; i < populators.length; i++) {
    populators[i] = (await processed(context, populators[i]!, first.commit, 'commit')).group;
  }

  const populateStart = now();
  while (populators.length > 0) {
    const update = await selfUpdate(context, populators.shift()!);
    ownerGroup = (await processed(context, ownerGroup, update.commit, 'commit')).group;
    member = (await processed(context, member, update.commit, 'commit')).group;
    for (let i = 0; i < populators.length; i++) {
      populators[i] = (await processed(context, populators[i]!, update.commit, 'commit')).group;
    }
  }
  out.populate_s = (now() - populateStart) / 1000;
  progress(`mls (${members}): populated the owner's copath in ${round(out.populate_s, 2)} s`);

  const [add, addMs] = await timed(() => addMembers(context, ownerGroup, [extra.keyPackage.keyPackage]));
  out.commit_add_ms = addMs;
  ownerGroup = add[0]!.group;
  const [afterAdd, processAddMs] = await timed(() => processed(context, member, add[0]!.commit, 'commit'));
  out.process_add_ms = processAddMs;
  member = afterAdd.group;

  const [remove, removeMs] = await timed(() => removeMembers(context, ownerGroup, [members]));
  out.commit_remove_ms = removeMs;
  ownerGroup = remove.group;
  const [afterRemove, processRemoveMs] = await timed(() =>
    processed(context, member, remove.commit, 'commit'),
  );
  out.process_remove_ms = processRemoveMs;
  member = afterRemove.group;

  const [update, updateMs] = await timed(() => selfUpdate(context, ownerGroup));
  out.commit_update_ms = updateMs;
  ownerGroup = update.group;
  const beforeCommit = member;
  const saved = exportGroupState(member);
  const [afterUpdate, processUpdateMs] = await timed(() =>
    processed(context, member, update.commit, 'commit'),
  );
  out.process_update_ms = processUpdateMs;
  // What a client that keeps the group in its store pays per commit: read the saved state, then process
  // (nothing memoised from earlier commits survives the round trip). One 20–80 ms step timed once is mostly
  // where a collection fell: the median of FROM_SAVED loads of the same saved state, each processing the
  // commit afresh; the first (the first lazy load in this process) is its own figure.
  const fromSavedTimes: number[] = [];
  for (let i = 0; i < FROM_SAVED; i++) {
    const [, ms] = await timed(() => processed(context, importGroupState(saved), update.commit, 'commit'));
    fromSavedTimes.push(ms);
  }
  out.process_update_from_saved_first_ms = fromSavedTimes[0]!;
  out.process_update_from_saved_ms = median(fromSavedTimes);
  member = afterUpdate.group;
  // What the member's device store (the CLI's SQLite store, synchronous = FULL) writes and how long it
  // takes, export included, to save the group after the commit and after a message; nothing exported the
  // new tree before (export_after_*: the export's share of that time).
  const dir = mkdtempSync(join(tmpdir(), 'courier-bench-mls-'));
  const store = new DeviceStore(join(dir, 'device.db'));
  try {
    let saves = await storeSave(store, beforeCommit, undefined, 1);
    const commitSave = await storeSave(store, member, saves, 2);
    out.save_after_commit_ms = commitSave.ms;
    out.save_after_commit_bytes = commitSave.bytes;
    out.export_after_commit_ms = commitSave.exportMs;
    saves = commitSave;

    // Messages: the median of MESSAGES round trips (one 1-ms operation timed alone is mostly noise); the
    // member saves its state to its store after each (save_after_message_*: medians too).
    const plaintext = new Uint8Array(200).fill(0x61);
    const encryptTimes: number[] = [];
    const decryptTimes: number[] = [];
    const saveTimes: number[] = [];
    const saveBytes: number[] = [];
    const exportTimes: number[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const [sent, encryptMs] = await timed(() => encryptMessage(context, ownerGroup, plaintext));
      encryptTimes.push(encryptMs);
      ownerGroup = sent.group;
      const [read, decryptMs] = await timed(() => processed(context, member, sent.message, 'application'));
      decryptTimes.push(decryptMs);
      if (read.kind !== 'application' || read.plaintext.length !== 200)
        throw new Error('decrypted the wrong message');
      member = read.group;
      saves = await storeSave(store, member, saves, 3 + i);
      saveTimes.push(saves.ms);
      saveBytes.push(saves.bytes);
      exportTimes.push(saves.exportMs);
    }
    out.encrypt_ms = median(encryptTimes);
    out.decrypt_ms = median(decryptTimes);
    out.save_after_message_ms = median(saveTimes);
    out.save_after_message_bytes = median(saveBytes);
    out.export_after_message_ms = median(exportTimes);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const [state, exportMs] = await timed(() => exportGroupState(member));
  out.state_bytes = state.length;
  out.state_export_ms = exportMs;
  const [, importMs] = await timed(() => importGroupState(state));
  out.state_import_ms = importMs;
  progress(`mls (${members}): ${JSON.stringify(out)}`);
  return out;
}

/** Runs the workload `runs` times per size and prints each figure (median over runs) as a JSON line. */
export async function runMlsBench(sizes: readonly number[], runs: number): Promise<void> {
  for (const members of sizes) {
    const results: Record<string, number>[] = [];
    let error: string | undefined;
    for (let r = 0; r < runs; r++) {
      progress(`mls (${members} members): run ${r + 1} of ${runs}`);
      try {
        results.push(await runMlsOnce(members));
      } catch (e) {
        progress(`mls (${members}) failed: ${(e as Error).stack ?? e}`);
        error = String((e as Error).message ?? e);
      }
    }
    for (const [figure, unit] of FIGURES) {
      const values = results.map((r) => r[figure]).filter((v): v is number => typeof v === 'number');
      const line: Figure =
        values.length === 0
          ? {
              bench: 'mls',
              figure,
              value: null,
              unit,
              params: { members },
              storage: figure.startsWith('save_') ? 'sqlite' : 'none',
              error: error ?? 'not measured',
            }
          : {
              bench: 'mls',
              figure,
              value: round(median(values), unit === 's' ? 3 : unit === 'B' ? 0 : 2),
              unit,
              params: { members, ciphersuite: 1, per_commit: MAX_ADDS_PER_COMMIT, messages: MESSAGES },
              storage: figure.startsWith('save_') ? 'sqlite' : 'none',
              ...(runs > 1 ? { runs, min: Math.min(...values), max: Math.max(...values) } : {}),
            };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
  }
}
