/**
 * The fast ratchet-tree decoder (fast-tree-decoder.ts) against the library's: on any tree the library's
 * encoder writes (leaves of every source, credentials of every kind, any extensions and capabilities, parent
 * nodes, blanks) and on any damage to those bytes (a changed byte, a cut, bytes appended), it either declines
 * or decodes exactly what the library decodes; `decodeRatchetTreeBytes` always ends where the library ends.
 * And it does not decline on the trees Courier makes (real groups' trees), or it would not be fast.
 */
import fc from 'fast-check';
import { encode, type Node, type RatchetTree, ratchetTreeDecoder, ratchetTreeEncoder } from 'ts-mls';
import { describe, expect, it } from 'vitest';
import { decodeRatchetTreeBytes, fastRatchetTree, NODE_SHAPE, scanNode } from './fast-tree-decoder.ts';
import { removeMembers } from './remove-members.ts';
import { selfUpdate } from './self-update.ts';
import { testingContext, testingGroup } from './testing-devices.ts';

const bytes = (max = 40) => fc.uint8Array({ maxLength: max });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u16s = fc.array(u16, { maxLength: 6 });

// Mostly what the fast decoder takes (basic credentials, version mls10), so that most trees test its output.
const credential = fc.oneof(
  { arbitrary: fc.record({ credentialType: fc.constant(1), identity: bytes(80) }), weight: 30 },
  fc.record({ credentialType: fc.constant(2), certificates: fc.array(bytes(), { maxLength: 3 }) }),
  fc.record({ credentialType: fc.integer({ min: 3, max: 0xffff }), data: bytes() }),
);

// Types 3 and 5 (required_capabilities, external_senders) are group-context extensions the library's encoder
// writes from structured values; leaf extensions are opaque bytes of any other type.
const extensions = fc.array(
  fc.record({ extensionType: u16.filter((t) => t !== 3 && t !== 5), extensionData: bytes() }),
  { maxLength: 3 },
);

const leafSource = fc.oneof(
  fc.record({
    leafNodeSource: fc.constant(1),
    lifetime: fc.record({
      notBefore: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      notAfter: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    }),
  }),
  fc.record({ leafNodeSource: fc.constant(2) }),
  fc.record({ leafNodeSource: fc.constant(3), parentHash: bytes(64) }),
);

const leaf = fc
  .record({
    hpkePublicKey: bytes(),
    signaturePublicKey: bytes(),
    credential,
    capabilities: fc.record({
      versions: fc.oneof(
        { arbitrary: fc.constant([1]), weight: 30 },
        fc.array(fc.constantFrom(1, 2), { maxLength: 3 }),
      ),
      ciphersuites: u16s,
      extensions: u16s,
      proposals: u16s,
      credentials: u16s,
    }),
    source: leafSource,
    extensions,
    signature: bytes(70),
  })
  .map(({ source, ...rest }): Node => ({ nodeType: 1, leaf: { ...rest, ...source } }) as unknown as Node);

const parent = fc
  .record({
    hpkePublicKey: bytes(),
    parentHash: bytes(64),
    unmergedLeaves: fc.array(fc.nat(0xffffffff), { maxLength: 5 }),
  })
  .map((p): Node => ({ nodeType: 2, parent: p }) as Node);

/** Trees as the library encodes them: blank nodes anywhere, never last (its encoder drops trailing blanks). */
const tree = fc
  .array(fc.option(fc.oneof(leaf, parent), { nil: undefined }), { minLength: 1, maxLength: 9 })
  .chain((nodes) => leaf.map((last) => [...nodes, last] as RatchetTree));

function library(input: Uint8Array): RatchetTree | undefined | 'error' {
  try {
    const decoded = ratchetTreeDecoder(input, 0);
    return decoded === undefined || decoded[1] !== input.length ? undefined : decoded[0];
  } catch {
    return 'error';
  }
}

function ours(input: Uint8Array): RatchetTree | undefined | 'error' {
  try {
    return decodeRatchetTreeBytes(input);
  } catch {
    return 'error';
  }
}

describe('fast ratchet-tree decoder', () => {
  it('decodes what the library encodes exactly as the library does, or declines', () => {
    let taken = 0;
    fc.assert(
      fc.property(tree, (t) => {
        const encoded = encode(ratchetTreeEncoder, t);
        const fast = fastRatchetTree(encoded);
        if (fast !== undefined) {
          taken++;
          expect(fast).toEqual(library(encoded));
        }
        expect(ours(encoded)).toEqual(library(encoded));
      }),
      { numRuns: 600 },
    );
    // The comparison above ran on the fast decoder's output for a good share of the trees.
    expect(taken).toBeGreaterThan(120);
  });

  it('decodes damaged bytes exactly as the library does, or declines', () => {
    fc.assert(
      fc.property(
        tree,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(),
        bytes(6),
        (t, at, value, cut, extra) => {
          const encoded = encode(ratchetTreeEncoder, t);
          const changed = encoded.slice();
          changed[at % changed.length] = value;
          const damaged = [
            changed,
            encoded.subarray(0, cut % encoded.length),
            new Uint8Array([...encoded, ...extra]),
          ];
          for (const input of damaged) {
            const fast = fastRatchetTree(input);
            const expected = library(input);
            if (fast !== undefined) expect(fast).toEqual(expected);
            expect(ours(input)).toEqual(expected);
          }
        },
      ),
      { numRuns: 600 },
    );
  });

  it('takes the fast path on the trees of real groups', async () => {
    const context = await testingContext();
    const [creator] = await testingGroup(context, 6);
    let group = creator!.group!;
    group = (await selfUpdate(context, group)).group;
    group = (await removeMembers(context, group, [2])).group;
    const encoded = encode(ratchetTreeEncoder, group.state.ratchetTree);
    const fast = fastRatchetTree(encoded);
    expect(fast).toBeDefined();
    expect(fast).toEqual(library(encoded));
    expect(fast!.filter((n) => n?.nodeType === 2).length).toBeGreaterThan(0);
  });

  it('scanNode accepts a one-node tree exactly when the fast decoder reads it, and finds its keys', () => {
    let accepted = 0;
    const check = (input: Uint8Array, padding: number) => {
      // The node inside a larger buffer (as in a saved page): offsets are into that buffer.
      const page = new Uint8Array(padding + input.length + 3);
      page.set(input, padding);
      const shape = new Int32Array(NODE_SHAPE);
      const nodeType = scanNode(page, padding, padding + input.length, shape, 0);
      const fast = fastRatchetTree(input);
      const node = fast?.length === 1 ? fast[0] : undefined;
      expect(nodeType).toBe(node?.nodeType ?? 0);
      if (node === undefined) return;
      accepted++;
      const range = (at: number) => [...page.subarray(shape[at]!, shape[at + 1]!)];
      if (node.nodeType === 1) {
        expect(range(1)).toEqual([...node.leaf.hpkePublicKey]);
        expect(range(3)).toEqual([...node.leaf.signaturePublicKey]);
        const credentials = page.subarray(shape[5]!, shape[6]!);
        expect(
          [...credentials].flatMap((b, i) => (i % 2 === 0 ? [(b << 8) | credentials[i + 1]!] : [])),
        ).toEqual(node.leaf.capabilities.credentials);
      } else expect(range(1)).toEqual([...node.parent.hpkePublicKey]);
    };
    fc.assert(
      fc.property(
        fc.oneof(leaf, parent),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(),
        bytes(6),
        fc.nat(9),
        (n, at, value, cut, extra, padding) => {
          const encoded = encode(ratchetTreeEncoder, [n]);
          const changed = encoded.slice();
          changed[at % changed.length] = value;
          for (const input of [
            encoded,
            changed,
            encoded.subarray(0, cut % encoded.length),
            new Uint8Array([...encoded, ...extra]),
          ])
            check(input, padding);
        },
      ),
      { numRuns: 600 },
    );
    expect(accepted).toBeGreaterThan(150);
  });
});
