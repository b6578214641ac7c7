import fc from 'fast-check';
import { clientStateEncoder, encode, ratchetTreeEncoder } from 'ts-mls';
import { beforeAll, describe, expect, test } from 'vitest';
import { addMembers } from './add-members.ts';
import { createGroup } from './create-group.ts';
import { encryptMessage } from './encrypt-message.ts';
import {
  applyGroupStateChange,
  encodedNode,
  exportGroupState,
  exportGroupStateParts,
  GROUP_STATE_VERSION,
  groupStateChange,
  importGroupState,
  importGroupStateParts,
  joinGroupState,
  splitGroupState,
} from './group-state-codec.ts';
import { joinGroup } from './join-group.ts';
import type { MlsClientContext } from './mls-context.ts';
import { MlsError } from './mls-error.ts';
import type { MlsGroup } from './mls-group.ts';
import { processMessage } from './process-message.ts';
import { removeMembers } from './remove-members.ts';
import { selfUpdate } from './self-update.ts';
import { testingContext, testingDevice, testingGroup } from './testing-devices.ts';
import { toNodeIndex, treeHashesOf, treeHashUncached } from './ts-mls-internal.ts';

let context: MlsClientContext;
beforeAll(async () => {
  context = await testingContext();
});

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
/** The library's own encoding of the whole state: two states with the same one are the same state. */
const canonical = (group: MlsGroup) => hex(encode(clientStateEncoder, group.state));
const version1 = (group: MlsGroup) => new Uint8Array([1, ...encode(clientStateEncoder, group.state)]);

/**
 * What version 3 wrote for this group (version 2: the same without the trailing hash section), made from
 * version 4's secret part: the ClientState with its tree inside, the older epochs, every node's hash.
 */
function olderVersion(group: MlsGroup, version: 2 | 3): Uint8Array {
  const { secrets } = exportGroupStateParts(group);
  const view = new DataView(secrets.buffer, secrets.byteOffset, secrets.byteLength);
  const epochs = secrets.subarray(1 + 4 + view.getUint32(1) + 4 + 1);
  const state = encode(clientStateEncoder, { ...group.state, historicalReceiverData: new Map() });
  const u32 = (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    return [...b];
  };
  const hashes = treeHashesOf(group.state.ratchetTree, context.library.cipherSuite.hash)!;
  const hashSection =
    version === 3 ? [...u32(hashes.length), ...hashes.flatMap((h) => [...u32(h.length), ...h])] : [];
  return new Uint8Array([version, ...u32(state.length), ...state, ...epochs, ...hashSection]);
}

/** Owner and member of a 6-member group, the member having followed adds, a remove and updates. */
async function groupWithHistory(): Promise<{ owner: MlsGroup; member: MlsGroup }> {
  const devices = await testingGroup(context, 4);
  let owner = devices[0]!.group!;
  let member = devices[1]!.group!;
  const follow = async (commit: Uint8Array) => {
    const outcome = await processMessage(context, member, commit);
    if (outcome.kind !== 'commit') throw new Error(outcome.kind);
    member = outcome.group;
  };
  const more = await Promise.all([testingDevice(context, 'x1'), testingDevice(context, 'x2')]);
  const [add] = await addMembers(
    context,
    owner,
    more.map((d) => d.keyPackages[0]!.keyPackage),
  );
  owner = add!.group;
  await follow(add!.commit);
  const remove = await removeMembers(context, owner, [2]);
  owner = remove.group;
  await follow(remove.commit);
  const update = await selfUpdate(context, owner);
  owner = update.group;
  await follow(update.commit);
  const mine = await selfUpdate(context, member);
  member = mine.group;
  const outcome = await processMessage(context, owner, mine.commit);
  if (outcome.kind !== 'commit') throw new Error(outcome.kind);
  owner = outcome.group;
  return { owner, member };
}

describe('saved group state', () => {
  test('the saved state restores exactly the state it saved, older epochs included, in fewer bytes than version 1', async () => {
    const { member } = await groupWithHistory();
    expect(member.state.historicalReceiverData.size).toBeGreaterThanOrEqual(3);
    const saved = exportGroupState(member);
    expect(saved[0]).toBe(GROUP_STATE_VERSION);
    const restored = importGroupState(saved);
    expect(canonical(restored)).toBe(canonical(member));
    expect(exportGroupState(restored)).toEqual(saved);
    expect(saved.length).toBeLessThan(version1(member).length);
  });

  test("version 4 keeps each node's encoding, and saves exactly what a fresh encoding does", async () => {
    const { owner, member } = await groupWithHistory();
    exportGroupState(member);
    const sent = await encryptMessage(context, owner, new TextEncoder().encode('one more'));
    const read = await processMessage(context, member, sent.message);
    if (read.kind !== 'application') throw new Error(read.kind);
    // the message changed no node: the new state's tree is the same node objects, whose encodings the first
    // save remembered (the same arrays are written again)
    expect(read.group.state.ratchetTree.every((node, i) => node === member.state.ratchetTree[i])).toBe(true);
    const remembered = read.group.state.ratchetTree.map((node) => node && encodedNode(node));
    const second = exportGroupState(read.group);
    read.group.state.ratchetTree.forEach((node, i) => {
      if (node !== undefined) expect(encodedNode(node)).toBe(remembered[i]);
    });
    expect(canonical(importGroupState(second))).toBe(canonical(read.group));
    // a state loaded in this process (its nodes' encodings remembered from the bytes) saves the same bytes
    expect(exportGroupState(importGroupState(second))).toEqual(second);
    for (const node of read.group.state.ratchetTree) {
      if (node !== undefined) expect(hex(encodedNode(node))).toBe(hex(encode(ratchetTreeEncoder, [node])));
    }
  });

  test('in parts, a message changes only the secret part and a commit a few tree pages besides', async () => {
    const { owner, member } = await groupWithHistory();
    const before = exportGroupStateParts(member);
    expect(joinGroupState(splitGroupState(exportGroupState(member)))).toEqual(exportGroupState(member));
    expect(canonical(importGroupStateParts(before))).toBe(canonical(member));
    const sent = await encryptMessage(context, owner, new TextEncoder().encode('hello'));
    const read = await processMessage(context, member, sent.message);
    if (read.kind !== 'application') throw new Error(read.kind);
    const afterMessage = exportGroupStateParts(read.group);
    expect(afterMessage.pages).toEqual(before.pages);
    expect(hex(afterMessage.secrets)).not.toBe(hex(before.secrets));
    const update = await selfUpdate(context, sent.group);
    const processed = await processMessage(context, read.group, update.commit);
    if (processed.kind !== 'commit') throw new Error(processed.kind);
    const afterCommit = exportGroupStateParts(processed.group);
    const changed = afterCommit.pages.filter(
      (page, i) => hex(page) !== hex(before.pages[i] ?? new Uint8Array()),
    );
    // the committer's leaf and its direct path (and so their hashes): at most one page per tree level here
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.length).toBeLessThanOrEqual(Math.ceil(Math.log2(member.state.ratchetTree.length + 1)));
    expect(canonical(importGroupStateParts(afterCommit))).toBe(canonical(processed.group));
    // state saved by version 3 is one part, and joins back to itself
    const v3 = olderVersion(member, 3);
    expect(splitGroupState(v3)).toEqual({ secrets: v3, pages: [] });
    expect(joinGroupState(splitGroupState(v3))).toBe(v3);
  });

  test('given the parts saved before, unchanged pages are the same arrays: a change holds only what a store must write', async () => {
    // 40 members: a tree of 127 nodes, four pages; the owner's update changes its path (pages 0 and 1).
    const devices = await Promise.all(
      Array.from({ length: 40 }, (_, i) => testingDevice(context, `big${i}`)),
    );
    const created = await createGroup(context, devices[0]!.identity, new TextEncoder().encode('big-group'));
    const [added] = await addMembers(
      context,
      created,
      devices.slice(1).map((d) => d.keyPackages[0]!.keyPackage),
    );
    const owner = added!.group;
    const member = (
      await joinGroup(context, {
        welcome: added!.welcome!,
        ratchetTree: added!.ratchetTree!,
        keyPackages: devices[39]!.keyPackages,
      })
    ).group;
    const saved = exportGroupStateParts(member);
    expect(saved.pages.length).toBe(4);
    // Loaded from its parts (as a client does from its store): the loaded pages are recognised as they are.
    const loaded = importGroupStateParts({
      secrets: saved.secrets.slice(),
      pages: saved.pages.map((p) => p.slice()),
    });
    const stored = exportGroupStateParts(loaded);
    const sent = await encryptMessage(context, owner, new TextEncoder().encode('hello'));
    const read = await processMessage(context, loaded, sent.message);
    if (read.kind !== 'application') throw new Error(read.kind);
    const afterMessage = exportGroupStateParts(read.group, stored);
    for (const [i, page] of afterMessage.pages.entries()) expect(page).toBe(stored.pages[i]);
    const messageChange = groupStateChange(stored, afterMessage);
    expect(messageChange.pages.size).toBe(0);
    expect(messageChange.pageCount).toBe(stored.pages.length);
    const update = await selfUpdate(context, sent.group);
    const processed = await processMessage(context, read.group, update.commit);
    if (processed.kind !== 'commit') throw new Error(processed.kind);
    const afterCommit = exportGroupStateParts(processed.group, afterMessage);
    const commitChange = groupStateChange(afterMessage, afterCommit);
    expect([...commitChange.pages.keys()]).toEqual([0, 1]);
    // Unchanged pages kept their arrays; the changed ones are exactly those whose bytes differ.
    for (const [i, page] of afterCommit.pages.entries()) {
      const same = hex(page) === hex(afterMessage.pages[i]!);
      expect(commitChange.pages.has(i)).toBe(!same);
      if (same) expect(page).toBe(afterMessage.pages[i]);
    }
    // What a store holds after applying the change is the fresh export, and restores the group.
    const held = applyGroupStateChange(afterMessage, commitChange);
    const fresh = exportGroupStateParts(processed.group);
    expect(held.pages.map(hex)).toEqual(fresh.pages.map(hex));
    expect(canonical(importGroupStateParts(held))).toBe(canonical(processed.group));
    // A change missing a page the store lacks, or naming a page beyond the count, is refused.
    expect(() => applyGroupStateChange(undefined, commitChange)).toThrow(MlsError);
    expect(() =>
      applyGroupStateChange(afterMessage, {
        ...commitChange,
        pages: new Map([[commitChange.pageCount, fresh.pages[0]!]]),
      }),
    ).toThrow(MlsError);
  });

  test('version 3 (what the previous release saved) is still read', async () => {
    const { member } = await groupWithHistory();
    expect(canonical(importGroupState(olderVersion(member, 3)))).toBe(canonical(member));
  });

  test('version 1 (what earlier releases saved) is still read', async () => {
    const { member } = await groupWithHistory();
    const restored = importGroupState(version1(member));
    expect(canonical(restored)).toBe(canonical(member));
    expect(canonical(importGroupState(exportGroupState(restored)))).toBe(canonical(member));
  });

  test('a restored group reads a message of an earlier epoch and follows the next commit', async () => {
    const { owner, member } = await groupWithHistory();
    const old = await encryptMessage(context, owner, new TextEncoder().encode('sent before the update'));
    const update = await selfUpdate(context, old.group);
    const memberAfter = await processMessage(context, member, update.commit);
    if (memberAfter.kind !== 'commit') throw new Error(memberAfter.kind);
    const restored = importGroupState(exportGroupState(memberAfter.group));
    const read = await processMessage(context, restored, old.message);
    expect(read.kind === 'application' && new TextDecoder().decode(read.plaintext)).toBe(
      'sent before the update',
    );
    const next = await selfUpdate(context, update.group);
    expect((await processMessage(context, restored, next.commit)).kind).toBe('commit');
  });

  test('the saved tree hashes let a loaded group skip rehashing, and equal a from-scratch computation', async () => {
    const { owner, member } = await groupWithHistory();
    const h = context.library.cipherSuite.hash;
    const saved = exportGroupState(member);
    const restored = importGroupState(saved);
    // every node's memoised hash, straight from the seeded memo, against a from-scratch computation
    const memo = treeHashesOf(restored.state.ratchetTree, h)!;
    for (const [i] of restored.state.ratchetTree.entries()) {
      expect(hex(memo[i]!)).toBe(hex(await treeHashUncached(restored.state.ratchetTree, toNodeIndex(i), h)));
    }
    // version 2 is version 3 without the hash section (a u32 count and one 4+32-byte chunk per node)
    const nodes = member.state.ratchetTree.length;
    const v2 = olderVersion(member, 2);
    expect(canonical(importGroupState(v2))).toBe(canonical(member));
    expect(canonical(importGroupState(olderVersion(member, 3)))).toBe(canonical(member));
    // loaded from version 3 the memo is complete (no digest at all); from version 2 the tree is rehashed
    const digestSync = h.digestSync!;
    let digests = 0;
    h.digestSync = (data) => {
      digests++;
      return digestSync(data);
    };
    try {
      treeHashesOf(importGroupState(saved).state.ratchetTree, h);
      expect(digests).toBe(0);
      treeHashesOf(importGroupState(v2).state.ratchetTree, h);
      expect(digests).toBeGreaterThanOrEqual(member.state.ratchetTree.filter((n) => n !== undefined).length);
    } finally {
      h.digestSync = digestSync;
    }
    // hashes that do not match the group's tree hash are ignored, not trusted (version 3's trailing hashes)
    const v3 = olderVersion(member, 3);
    const forged = v3.slice();
    for (let i = 0; i < nodes; i++)
      forged.fill(0, v3.length - nodes * 36 + i * 36 + 4, v3.length - nodes * 36 + (i + 1) * 36);
    const fromForged = importGroupState(forged);
    expect(canonical(fromForged)).toBe(canonical(member));
    const recomputed = treeHashesOf(fromForged.state.ratchetTree, h)!;
    expect(recomputed.every((hash) => hash.some((byte) => byte !== 0))).toBe(true);
    const next = await selfUpdate(context, owner);
    expect((await processMessage(context, fromForged, next.commit)).kind).toBe('commit');
    expect((await processMessage(context, restored, next.commit)).kind).toBe('commit');
  });

  test('truncated or altered saved state is MLS_MALFORMED, never another failure', async () => {
    const { member } = await groupWithHistory();
    const saved = exportGroupState(member);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: saved.length - 1 }),
        fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
        (cut, flip) => {
          const bytes = flip === undefined ? saved.slice(0, cut) : saved.slice();
          if (flip !== undefined) bytes[cut] = bytes[cut]! ^ (flip | 1);
          try {
            importGroupState(bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(MlsError);
            expect((error as MlsError).code).toBe('MLS_MALFORMED');
            return;
          }
          // A flipped byte inside a key or signature still decodes: that is the store's integrity to keep.
          expect(flip).toBeDefined();
        },
      ),
      { numRuns: 300 },
    );
  });
});
