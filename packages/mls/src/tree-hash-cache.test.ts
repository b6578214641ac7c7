/**
 * The patched library memoises tree hashes per node and hashes parent-hash siblings without copying the
 * tree (patches/ts-mls+2.0.0-rc.10.patch). These properties check the memo against a from-scratch
 * computation over random histories of adds, removes, updates, joins and state reloads.
 */
import fc from 'fast-check';
import { nodeTypes } from 'ts-mls';
import { beforeAll, describe, expect, test } from 'vitest';
import { addMembers } from './add-members.ts';
import { createGroup } from './create-group.ts';
import { exportGroupState, importGroupState } from './group-state-codec.ts';
import { joinGroup } from './join-group.ts';
import type { MlsClientContext } from './mls-context.ts';
import { groupMembers, type MlsGroup } from './mls-group.ts';
import { processMessage } from './process-message.ts';
import { removeMembers } from './remove-members.ts';
import { selfUpdate } from './self-update.ts';
import { testingContext, testingDevice } from './testing-devices.ts';
import {
  removeLeaves,
  root,
  toLeafIndex,
  toNodeIndex,
  treeHashRoot,
  treeHashUncached,
  treeHashWithoutLeaves,
  verifyParentHashes,
} from './ts-mls-internal.ts';

let context: MlsClientContext;
beforeAll(async () => {
  context = await testingContext();
});

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Every way the memo could disagree with a from-scratch computation over this group's tree. */
async function checkTree(group: MlsGroup): Promise<void> {
  const tree = group.state.ratchetTree;
  const h = context.library.cipherSuite.hash;
  const rootIndex = toNodeIndex(root(Math.ceil(tree.length / 2)));
  const fresh = await treeHashUncached(tree, rootIndex, h);
  expect(hex(await treeHashRoot(tree, h))).toBe(hex(fresh));
  expect(hex(group.state.groupContext.treeHash)).toBe(hex(fresh));
  expect(await verifyParentHashes(tree, h)).toBe(true);
  for (const [i, node] of tree.entries()) {
    if (node?.nodeType !== nodeTypes.parent || node.parent.unmergedLeaves.length === 0) continue;
    const unmerged = node.parent.unmergedLeaves;
    const level = Math.log2((i ^ (i + 1)) + 1) - 1;
    for (const child of [i - 2 ** (level - 1), i + 2 ** (level - 1)]) {
      const expected = await treeHashUncached(
        removeLeaves(tree, unmerged.map(toLeafIndex)),
        toNodeIndex(child),
        h,
      );
      expect(hex(await treeHashWithoutLeaves(tree, toNodeIndex(child), unmerged, h))).toBe(hex(expected));
    }
  }
}

type Op =
  | { kind: 'add'; count: number }
  | { kind: 'remove'; pick: number }
  | { kind: 'update-owner' }
  | { kind: 'update-observer' }
  | { kind: 'reload' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), count: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
  fc.constant({ kind: 'update-owner' as const }),
  fc.constant({ kind: 'update-observer' as const }),
  fc.constant({ kind: 'reload' as const }),
);

async function commitTo(receiver: MlsGroup, commit: Uint8Array): Promise<MlsGroup> {
  const outcome = await processMessage(context, receiver, commit);
  if (outcome.kind !== 'commit') throw new Error(`expected a commit, got ${JSON.stringify(outcome)}`);
  return outcome.group;
}

describe('memoised tree hashes (patched ts-mls)', () => {
  test('equal a from-scratch computation after any history of adds, removes, updates, joins and reloads', async () => {
    let serial = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 7 }), async (ops) => {
        const ownerDevice = await testingDevice(context, `owner${serial++}`);
        const observerDevice = await testingDevice(context, `observer${serial++}`);
        let owner = await createGroup(context, ownerDevice.identity, new TextEncoder().encode(`g${serial}`));
        const [first] = await addMembers(context, owner, [observerDevice.keyPackages[0]!.keyPackage]);
        owner = first!.group;
        let observer = (
          await joinGroup(context, {
            welcome: first!.welcome!,
            ratchetTree: first!.ratchetTree!,
            keyPackages: observerDevice.keyPackages,
          })
        ).group;
        for (const op of ops) {
          if (op.kind === 'add') {
            const devices = await Promise.all(
              Array.from({ length: op.count }, () => testingDevice(context, `m${serial++}`)),
            );
            const [added] = await addMembers(
              context,
              owner,
              devices.map((d) => d.keyPackages[0]!.keyPackage),
            );
            owner = added!.group;
            observer = await commitTo(observer, added!.commit);
            // A newcomer validates the whole tree (signatures, parent-hash coverage, tree hash) on joining.
            const joined = await joinGroup(context, {
              welcome: added!.welcome!,
              ratchetTree: added!.ratchetTree!,
              keyPackages: devices[0]!.keyPackages,
            });
            await checkTree(joined.group);
          } else if (op.kind === 'remove') {
            const others = groupMembers(owner)
              .map((m) => m.leafIndex)
              .filter((leaf) => leaf !== owner.ownLeafIndex && leaf !== observer.ownLeafIndex);
            if (others.length === 0) continue;
            const removed = await removeMembers(context, owner, [others[op.pick % others.length]!]);
            owner = removed.group;
            observer = await commitTo(observer, removed.commit);
          } else if (op.kind === 'update-owner') {
            const updated = await selfUpdate(context, owner);
            owner = updated.group;
            observer = await commitTo(observer, updated.commit);
          } else if (op.kind === 'update-observer') {
            const updated = await selfUpdate(context, observer);
            observer = updated.group;
            owner = await commitTo(owner, updated.commit);
          } else {
            observer = importGroupState(exportGroupState(observer));
          }
          await checkTree(owner);
          await checkTree(observer);
          expect(hex(observer.state.groupContext.treeHash)).toBe(hex(owner.state.groupContext.treeHash));
        }
      }),
      {
        numRuns: 12,
        // Nested unmerged leaves: the remove's path fills two levels above leaf 2, then an add refills leaf 2.
        examples: [
          [
            [
              { kind: 'add', count: 3 },
              { kind: 'remove', pick: 0 },
              { kind: 'add', count: 1 },
              { kind: 'update-observer' },
              { kind: 'reload' },
              { kind: 'add', count: 2 },
            ],
          ],
        ],
      },
    );
  }, 60_000);

  test('a changed leaf changes the memoised hash exactly as a recomputation does', async () => {
    const device = await testingDevice(context, 'solo');
    const other = await testingDevice(context, 'other');
    let group = await createGroup(context, device.identity, new TextEncoder().encode('solo'));
    group = (await addMembers(context, group, [other.keyPackages[0]!.keyPackage]))[0]!.group;
    const h = context.library.cipherSuite.hash;
    const tree = group.state.ratchetTree;
    const before = await treeHashRoot(tree, h);
    // Same tree with leaf 1 blanked: a new array and no node object changed except that one.
    const blanked = tree.slice();
    blanked[2] = undefined;
    const after = await treeHashRoot(blanked, h);
    expect(hex(after)).not.toBe(hex(before));
    expect(hex(after)).toBe(hex(await treeHashUncached(blanked, toNodeIndex(1), h)));
    expect(hex(await treeHashRoot(tree, h))).toBe(hex(before));
  });
});
