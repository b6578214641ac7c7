/**
 * Loading saved state decodes tree nodes when first read (lazy-tree.ts): a loaded group follows commits as the
 * group it was saved from does, reads only the nodes a commit touches, and the key-uniqueness check that it answers
 * from the saved bytes refuses exactly what the library's check on decoded nodes refuses.
 */
import { type LeafNode, nodeTypes, seedTableOf } from 'ts-mls';
import { beforeAll, describe, expect, test } from 'vitest';
import { exportGroupState, importGroupState } from './group-state-codec.ts';
import { LazyTree } from './lazy-tree.ts';
import type { MlsClientContext } from './mls-context.ts';
import { processMessage } from './process-message.ts';
import { selfUpdate } from './self-update.ts';
import { testingContext, testingGroup } from './testing-devices.ts';
import { validateLeafNodeCredentialAndKeyUniqueness } from './ts-mls-internal.ts';

let context: MlsClientContext;
beforeAll(async () => {
  context = await testingContext();
});

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('lazy tree of a loaded group', () => {
  test('a loaded group processes a commit reading only the nodes it touches, and ends where the live group does', async () => {
    const devices = await testingGroup(context, 12);
    const owner = devices[0]!.group!;
    const member = devices[11]!.group!;
    const loaded = importGroupState(exportGroupState(member));
    const table = seedTableOf(loaded.state.ratchetTree);
    expect(table).toBeInstanceOf(LazyTree);
    const lazy = table as LazyTree;
    expect(lazy.decodedCount()).toBe(0);
    const update = await selfUpdate(context, owner);
    const fromLoaded = await processMessage(context, loaded, update.commit);
    const live = await processMessage(context, member, update.commit);
    if (fromLoaded.kind !== 'commit' || live.kind !== 'commit') throw new Error('not a commit');
    expect(hex(exportGroupState(fromLoaded.group))).toBe(hex(exportGroupState(live.group)));
    const present = loaded.state.ratchetTree.filter((n) => n !== undefined).length;
    // The owner's leaf is replaced, not read; the member decrypts at one node of the owner's path.
    expect(lazy.decodedCount()).toBeLessThan(present / 2);
    // Read anyway, every lazy node is what the live group holds.
    for (const [i, node] of loaded.state.ratchetTree.entries()) {
      const liveNode = member.state.ratchetTree[i];
      expect(node?.nodeType).toBe(liveNode?.nodeType);
      if (node?.nodeType === nodeTypes.leaf && liveNode?.nodeType === nodeTypes.leaf)
        expect(hex(node.leaf.signaturePublicKey)).toBe(hex(liveNode.leaf.signaturePublicKey));
    }
    expect(lazy.decodedCount()).toBe(present);
  });

  test('the uniqueness check of a new leaf refuses from the saved bytes what it refuses on decoded nodes', async () => {
    const devices = await testingGroup(context, 6);
    const member = devices[3]!.group!;
    const tree = member.state.ratchetTree;
    const leaves = tree.flatMap((n) => (n?.nodeType === nodeTypes.leaf ? [n.leaf] : []));
    const parentKeys = tree.flatMap((n) =>
      n?.nodeType === nodeTypes.parent ? [n.parent.hpkePublicKey] : [],
    );
    const stranger = leaves[0]!;
    const fresh = (bytes: Uint8Array) => bytes.map((b) => b ^ 0xff);
    const candidates: { leaf: LeafNode; own?: number }[] = [
      {
        leaf: {
          ...stranger,
          hpkePublicKey: fresh(stranger.hpkePublicKey),
          signaturePublicKey: fresh(stranger.signaturePublicKey),
        },
      },
      { leaf: { ...stranger, signaturePublicKey: fresh(stranger.signaturePublicKey) } },
      { leaf: { ...stranger, hpkePublicKey: fresh(stranger.hpkePublicKey) } },
      { leaf: stranger, own: 0 },
      { leaf: { ...leaves[2]!, hpkePublicKey: fresh(leaves[2]!.hpkePublicKey) }, own: 0 },
      { leaf: { ...stranger, credential: { ...stranger.credential, credentialType: 0x7777 } } as LeafNode },
      ...parentKeys.map((key) => ({
        leaf: { ...stranger, hpkePublicKey: key, signaturePublicKey: fresh(stranger.signaturePublicKey) },
      })),
    ];
    const verdict = async (t: typeof tree, c: (typeof candidates)[number]) =>
      (await validateLeafNodeCredentialAndKeyUniqueness(t, c.leaf, c.own))?.message ?? 'accepted';
    const outcomes = new Set<string>();
    for (const c of candidates) {
      const loaded = importGroupState(exportGroupState(member)).state.ratchetTree;
      const expected = await verdict(tree, c);
      outcomes.add(expected);
      expect(await verdict(loaded, c)).toBe(expected);
      // answered from the bytes: nothing was decoded to answer it
      expect((seedTableOf(loaded) as LazyTree).decodedCount()).toBe(0);
    }
    // every kind of answer was met: accepted, each key taken, an unsupported credential type
    expect([...outcomes].sort()).toEqual([
      'LeafNode has credential that is not supported by member of the group',
      'accepted',
      'hpke keys not unique',
      'signature keys not unique',
    ]);
  });
});
