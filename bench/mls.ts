/**
 * The MLS library workload (`npm run bench -- mls [--members N] [--runs N]`): packages/mls alone, in
 * this process, no server. For each group size: the owner creates the group and adds everyone in
 * commits of ≤ 500; the last member added joins from its Welcome with the tree served apart; the owner
 * then adds one member, removes it and updates itself, and the joined member processes each commit (the
 * update also from its saved state, as a client with a store does);
 * the owner encrypts a 200-byte message that the member decrypts; the member's saved state is measured.
 */
import {
  addMembers,
  createGroup,
  createKeyPackage,
  createMlsClientContext,
  encryptMessage,
  exportGroupState,
  generateDeviceIdentity,
  importGroupState,
  joinGroup,
  MAX_ADDS_PER_COMMIT,
  type MlsClientContext,
  type MlsGroup,
  processMessage,
  removeMembers,
  selfUpdate,
} from '@courier/mls';
import { type Figure, progress, round } from './figure.ts';
import { median } from './server-proc.ts';

export const MLS_SIZES = [2, 1000, 5000];

const FIGURES = [
  ['create_and_add_s', 's'],
  ['join_s', 's'],
  ['commit_add_ms', 'ms'],
  ['process_add_ms', 'ms'],
  ['commit_remove_ms', 'ms'],
  ['process_remove_ms', 'ms'],
  ['commit_update_ms', 'ms'],
  ['process_update_ms', 'ms'],
  ['process_update_from_saved_ms', 'ms'],
  ['encrypt_ms', 'ms'],
  ['decrypt_ms', 'ms'],
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
  const last = added.at(-1)!;
  const [joined, joinMs] = await timed(() =>
    joinGroup(context, {
      welcome: last.welcome!,
      ratchetTree: last.ratchetTree!,
      keyPackages: [joiner.keyPackage],
    }),
  );
  out.join_s = joinMs / 1000;
  let member = joined.group;
  progress(`mls (${members}): joined in ${round(joinMs / 1000, 2)} s`);

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
  const saved = exportGroupState(member);
  const [afterUpdate, processUpdateMs] = await timed(() =>
    processed(context, member, update.commit, 'commit'),
  );
  out.process_update_ms = processUpdateMs;
  // What a client that keeps the group in its store pays per commit: read the saved state, then process
  // (nothing memoised from earlier commits survives the round trip).
  const [, fromSavedMs] = await timed(() =>
    processed(context, importGroupState(saved), update.commit, 'commit'),
  );
  out.process_update_from_saved_ms = fromSavedMs;
  member = afterUpdate.group;

  const plaintext = new Uint8Array(200).fill(0x61);
  const [sent, encryptMs] = await timed(() => encryptMessage(context, ownerGroup, plaintext));
  out.encrypt_ms = encryptMs;
  const [read, decryptMs] = await timed(() => processed(context, member, sent.message, 'application'));
  out.decrypt_ms = decryptMs;
  if (read.kind !== 'application' || read.plaintext.length !== 200)
    throw new Error('decrypted the wrong message');
  member = read.group;

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
              storage: 'none',
              error: error ?? 'not measured',
            }
          : {
              bench: 'mls',
              figure,
              value: round(median(values), unit === 's' ? 3 : unit === 'B' ? 0 : 2),
              unit,
              params: { members, ciphersuite: 1, per_commit: MAX_ADDS_PER_COMMIT },
              storage: 'none',
              ...(runs > 1 ? { runs, min: Math.min(...values), max: Math.max(...values) } : {}),
            };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
  }
}
