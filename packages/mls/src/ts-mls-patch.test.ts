/**
 * The patched ts-mls 2.0.0-rc.10 (patches/ts-mls+2.0.0-rc.10.patch), tested through the library itself:
 * RFC 9420 §12.4 path rule on both sides, and the bugs that surfaced once more commits carry a path.
 */
import {
  type ClientState,
  contentTypes,
  createApplicationMessage,
  createCommit,
  createGroup,
  decode,
  defaultCredentialTypes,
  defaultExtensionTypes,
  defaultProposalTypes,
  generateKeyPackage,
  getCiphersuiteImpl,
  joinGroup,
  type MlsContext,
  type MlsFramedMessage,
  type MlsMessage,
  mlsMessageDecoder,
  nobleCryptoProvider,
  type Proposal,
  processMessage,
  unsafeTestingAuthenticationService,
  ValidationError,
  wireformats,
} from 'ts-mls';
import { beforeAll, describe, expect, test } from 'vitest';
import { dangerouslyForgePathlessCommit } from './dangerously-forge-pathless-commit.ts';

const text = new TextEncoder();
let context: MlsContext;

beforeAll(async () => {
  const cipherSuite = await getCiphersuiteImpl(
    'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519',
    nobleCryptoProvider,
  );
  context = { cipherSuite, authService: unsafeTestingAuthenticationService };
});

function keyPackage(name: string) {
  return generateKeyPackage({
    credential: { credentialType: defaultCredentialTypes.basic, identity: text.encode(name) },
    cipherSuite: context.cipherSuite,
  });
}

const add = (kp: Awaited<ReturnType<typeof keyPackage>>): Proposal => ({
  proposalType: defaultProposalTypes.add,
  add: { keyPackage: kp.publicPackage },
});
const remove = (leaf: number): Proposal => ({
  proposalType: defaultProposalTypes.remove,
  remove: { removed: leaf },
});

/** members[i] is the state of leaf i, or undefined once it has left. */
type Members = (ClientState | undefined)[];

async function makeGroup(size: number): Promise<Members> {
  const creator = await keyPackage('m0');
  const first = await createGroup({
    context,
    groupId: text.encode(`g-${Math.random()}`),
    keyPackage: creator.publicPackage,
    privateKeyPackage: creator.privatePackage,
  });
  const others = await Promise.all(Array.from({ length: size - 1 }, (_, i) => keyPackage(`m${i + 1}`)));
  const commit = await createCommit({
    context,
    state: first,
    extraProposals: others.map(add),
    wireAsPublicMessage: true,
  });
  const members: Members = [commit.newState];
  for (const other of others) {
    members.push(
      await joinGroup({
        context,
        welcome: commit.welcome!.welcome,
        keyPackage: other.publicPackage,
        privateKeys: other.privatePackage,
        ratchetTree: commit.newState.ratchetTree,
      }),
    );
  }
  return members;
}

function framed(message: MlsMessage): MlsFramedMessage {
  if (
    message.wireformat !== wireformats.mls_public_message &&
    message.wireformat !== wireformats.mls_private_message
  )
    throw new Error('expected a framed message');
  return message;
}

/** Commits from `sender`, has every other member process it, and reports who saw their own removal. */
async function commitToAll(members: Members, sender: number, proposals: Proposal[]) {
  const result = await createCommit({
    context,
    state: members[sender]!,
    extraProposals: proposals,
    wireAsPublicMessage: true,
  });
  const after = members.slice();
  after[sender] = result.newState;
  const removed: number[] = [];
  for (const [i, state] of members.entries()) {
    if (i === sender || state === undefined) continue;
    const processed = await processMessage({ context, state, message: framed(result.commit) });
    if (processed.newState.groupActiveState.kind === 'removedFromGroup') {
      removed.push(i);
      after[i] = undefined;
    } else {
      after[i] = processed.newState;
    }
  }
  const content =
    result.commit.wireformat === wireformats.mls_public_message
      ? result.commit.publicMessage.content
      : undefined;
  const hasPath =
    content?.contentType === contentTypes.commit ? content.commit.path !== undefined : undefined;
  return { after, removed, hasPath, result };
}

/** `sender` sends a message; every other current member must read it. */
async function everyoneReads(members: Members, sender: number): Promise<void> {
  const sent = await createApplicationMessage({
    context,
    state: members[sender]!,
    message: text.encode('ping'),
  });
  members[sender] = sent.newState;
  for (const [i, state] of members.entries()) {
    if (i === sender || state === undefined) continue;
    const got = await processMessage({ context, state, message: framed(sent.message) });
    expect(got.kind).toBe('applicationMessage');
    members[i] = got.newState;
  }
}

describe('RFC 9420 §12.4: a commit covering an Update or Remove carries an UpdatePath', () => {
  test('a single-Remove commit has a path, and the removed member cannot read the next message', async () => {
    const members = await makeGroup(3);
    const removedState = members[2]!;
    const { after, removed, hasPath } = await commitToAll(members, 0, [remove(2)]);
    expect(hasPath).toBe(true);
    expect(removed).toEqual([2]);
    const sent = await createApplicationMessage({
      context,
      state: after[0]!,
      message: text.encode('after removal'),
    });
    await expect(
      processMessage({ context, state: removedState, message: framed(sent.message) }),
    ).rejects.toThrow();
    await everyoneReads(after, 1);
  });

  test('an empty commit (self-update) has a path', async () => {
    const { after, hasPath } = await commitToAll(await makeGroup(3), 1, []);
    expect(hasPath).toBe(true);
    await everyoneReads(after, 2);
  });

  test('an add-only commit may omit the path, and does', async () => {
    const members = await makeGroup(2);
    const { hasPath } = await commitToAll(members, 0, [add(await keyPackage('late'))]);
    expect(hasPath).toBe(false);
  });

  test('a hand-built path-less single-Remove commit is rejected by the patched receiver', async () => {
    const members = await makeGroup(3);
    const forged = decode(
      mlsMessageDecoder,
      await dangerouslyForgePathlessCommit(context, members[0]!, [remove(2)]),
    )!;
    const attempt = processMessage({ context, state: members[1]!, message: framed(forged) });
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await expect(attempt).rejects.toThrow('Update path is required');
  });

  test('control: the same forger builds a path-less Add commit that receivers accept', async () => {
    const members = await makeGroup(2);
    const late = await keyPackage('late');
    const forged = decode(
      mlsMessageDecoder,
      await dangerouslyForgePathlessCommit(context, members[0]!, [add(late)]),
    )!;
    const processed = await processMessage({ context, state: members[1]!, message: framed(forged) });
    expect(processed.newState.groupContext.epoch).toBe(members[1]!.groupContext.epoch + 1n);
  });
});

describe('bugs that surface once more commits carry a path', () => {
  test('a GroupContextExtensions commit is processed by the receiver (was OpenError)', async () => {
    const members = await makeGroup(3);
    const gce: Proposal = {
      proposalType: defaultProposalTypes.group_context_extensions,
      groupContextExtensions: {
        extensions: [
          {
            extensionType: defaultExtensionTypes.external_senders,
            extensionData: {
              credential: { credentialType: defaultCredentialTypes.basic, identity: text.encode('bot') },
              signaturePublicKey: new Uint8Array(32).fill(7),
            },
          },
        ],
      },
    };
    const { after, hasPath } = await commitToAll(members, 0, [gce]);
    expect(hasPath).toBe(true);
    expect(after[1]!.groupContext.extensions).toHaveLength(1);
    await everyoneReads(after, 1);
  });

  test('Remove + Add into a previously blank leaf commits (was TypeError) and everyone reads', async () => {
    const members = await makeGroup(4);
    const first = await commitToAll(members, 0, [remove(2)]);
    const joiner = await keyPackage('x');
    const second = await commitToAll(first.after, 0, [remove(3), add(joiner)]);
    expect(second.hasPath).toBe(true);
    expect(second.removed).toEqual([3]);
    second.after[2] = await joinGroup({
      context,
      welcome: second.result.welcome!.welcome,
      keyPackage: joiner.publicPackage,
      privateKeys: joiner.privatePackage,
      ratchetTree: second.result.newState.ratchetTree,
    });
    await everyoneReads(second.after, 2);
    const third = await commitToAll(second.after, 2, []);
    await everyoneReads(third.after, 1);
  });

  test('a member removed and replaced in the same commit sees its removal (was a path error)', async () => {
    const members = await makeGroup(3);
    const x = await keyPackage('x');
    const { removed, after, result } = await commitToAll(members, 1, [remove(0), add(x)]);
    expect(removed).toEqual([0]);
    after[0] = await joinGroup({
      context,
      welcome: result.welcome!.welcome,
      keyPackage: x.publicPackage,
      privateKeys: x.privatePackage,
      ratchetTree: result.newState.ratchetTree,
    });
    await everyoneReads(after, 0);
  });

  test('commit secret when the root is off the filtered direct path (two leftmost members removed)', async () => {
    // RFC 9420 §12.4.2: commit_secret = DeriveSecret(last path secret of the UpdatePath, "path"). rc.10's
    // receiver derived once more up to a blank root, so the others failed the confirmation tag.
    const members = await makeGroup(4);
    const { after, removed } = await commitToAll(members, 2, [remove(0), remove(1)]);
    expect(removed).toEqual([0, 1]);
    await everyoneReads(after, 3);
    const next = await commitToAll(after, 3, []);
    await everyoneReads(next.after, 2);
  });
});

describe('RFC 9420 §7.3: keys of a leaf entering the tree are unique in it', () => {
  test('a leaf reusing a member’s encryption or signature key is refused; its own old keys are not a clash', async () => {
    const { validateLeafNodeCredentialAndKeyUniqueness } = await import('./ts-mls-internal.ts');
    const { testingContext, testingGroup } = await import('./testing-devices.ts');
    const { selfUpdate } = await import('./self-update.ts');
    const wrapperContext = await testingContext();
    const [alice] = await testingGroup(wrapperContext, 3);
    // after alice's update the tree has parent nodes too
    const tree = (await selfUpdate(wrapperContext, alice!.group!)).group.state.ratchetTree;
    const bobNode = tree[2];
    const carolNode = tree[4];
    if (bobNode?.nodeType !== 1 || carolNode?.nodeType !== 1) throw new Error('expected leaves 1 and 2');
    const bob = bobNode.leaf;
    const carol = carolNode.leaf;
    // rc.10 compared the tree's keys with each other only, never the entering leaf's: all three passed.
    const reusesHpke = { ...carol, hpkePublicKey: bob.hpkePublicKey };
    expect((await validateLeafNodeCredentialAndKeyUniqueness(tree, reusesHpke))?.message).toBe(
      'hpke keys not unique',
    );
    const reusesSigner = {
      ...carol,
      hpkePublicKey: new Uint8Array(32).fill(7),
      signaturePublicKey: bob.signaturePublicKey,
    };
    expect((await validateLeafNodeCredentialAndKeyUniqueness(tree, reusesSigner))?.message).toBe(
      'signature keys not unique',
    );
    const parent = tree.find((node) => node?.nodeType === 2);
    if (parent?.nodeType !== 2) throw new Error('expected a parent node after the update');
    const reusesParentKey = { ...carol, hpkePublicKey: parent.parent.hpkePublicKey };
    expect((await validateLeafNodeCredentialAndKeyUniqueness(tree, reusesParentKey))?.message).toBe(
      'hpke keys not unique',
    );
    // carol's own leaf, as in an update or commit of hers: her current keys are hers, not a clash
    expect(await validateLeafNodeCredentialAndKeyUniqueness(tree, carol, 2)).toBeUndefined();
    expect((await validateLeafNodeCredentialAndKeyUniqueness(tree, carol, 1))?.message).toBe(
      'hpke keys not unique',
    );
  });
});
