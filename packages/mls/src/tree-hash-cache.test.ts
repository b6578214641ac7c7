/**
 * The patched library memoises tree hashes per node and hashes parent-hash siblings without copying the
 * tree (patches/ts-mls+2.0.0-rc.10.patch). The property checks the memo against a from-scratch
 * computation over random histories of adds, removes and updates by any member, joins and state reloads
 * (testing-histories.ts); `npm run bench -- mls-soak` runs the same property for many more histories.
 */
import fc from 'fast-check';
import { nodeTypes } from 'ts-mls';
import { beforeAll, describe, expect, test } from 'vitest';
import { addMembers } from './add-members.ts';
import { createGroup } from './create-group.ts';
import type { MlsClientContext } from './mls-context.ts';
import { testingContext, testingDevice } from './testing-devices.ts';
import { historyProperty, PINNED_HISTORIES, runHistory } from './testing-histories.ts';
import { toNodeIndex, treeHashRoot, treeHashUncached } from './ts-mls-internal.ts';

let context: MlsClientContext;
beforeAll(async () => {
  context = await testingContext();
});

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('memoised tree hashes (patched ts-mls)', () => {
  test.each(PINNED_HISTORIES.map((h) => [h.name, h.ops] as const))(
    'pinned history: %s',
    async (_name, ops) => {
      await runHistory(context, ops);
    },
    30_000,
  );

  test('equal a from-scratch computation after any history of adds, removes, updates, joins and reloads', async () => {
    await fc.assert(historyProperty(context, 7), {
      numRuns: 12,
      examples: PINNED_HISTORIES.map((h) => [h.ops]),
    });
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

  // The memo keeps one entry per node object inline and more in maps only when the same leaf object sits at
  // another index or the same parent object (or a blank) has other children: trees that reuse a few node
  // objects at random places exercise both, against a from-scratch computation.
  test('equal a from-scratch computation on trees that reuse node objects anywhere', async () => {
    const devices = [await testingDevice(context, 'a'), await testingDevice(context, 'b')];
    let group = await createGroup(context, devices[0]!.identity, new TextEncoder().encode('reuse'));
    group = (await addMembers(context, group, [devices[1]!.keyPackages[0]!.keyPackage]))[0]!.group;
    const leaves = [group.state.ratchetTree[0]!, group.state.ratchetTree[2]!];
    const parents = [1, 2, 3].map((k) => ({
      nodeType: nodeTypes.parent,
      parent: {
        hpkePublicKey: new Uint8Array(32).fill(k),
        parentHash: new Uint8Array(k),
        unmergedLeaves: [],
      },
    }));
    const h = context.library.cipherSuite.hash;
    const width = 15;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: 2 }), { minLength: width, maxLength: width }),
        fc.array(fc.nat({ max: 3 }), { minLength: width, maxLength: width }),
        async (leafPicks, parentPicks) => {
          const tree = Array.from({ length: width }, (_, i) =>
            i % 2 === 0 ? leaves[leafPicks[i]!] : parents[parentPicks[i]!],
          );
          tree[width - 1] = leaves[0]; // a tree ends with a non-blank leaf
          expect(hex(await treeHashRoot(tree, h))).toBe(hex(await treeHashUncached(tree, toNodeIndex(7), h)));
        },
      ),
      { numRuns: 60 },
    );
  });
});
