/**
 * Interoperability of packages/mls (patched ts-mls) with an independent MLS implementation: Wire's
 * core-crypto 10.3.0 (OpenMLS in WebAssembly). Groups made on either side, members of both in one group,
 * application messages, updates, adds and removes both ways, the same exporter secret on both sides, and
 * core-crypto refusing the path-less single-Remove commit unpatched rc.10 produced.
 */
import { defaultProposalTypes, unsafeTestingAuthenticationService } from 'ts-mls';
import { beforeAll, describe, expect, test } from 'vitest';
import { addMembers } from './add-members.ts';
import { createGroup } from './create-group.ts';
import { dangerouslyForgePathlessCommit } from './dangerously-forge-pathless-commit.ts';
import { generateDeviceIdentity } from './device-identity.ts';
import { encryptMessage } from './encrypt-message.ts';
import { exportSecret } from './export-secret.ts';
import { joinGroup } from './join-group.ts';
import { createKeyPackage } from './key-package.ts';
import type { MlsClientContext } from './mls-context.ts';
import { groupMembers, type MlsGroup } from './mls-group.ts';
import { processMessage } from './process-message.ts';
import { removeMembers } from './remove-members.ts';
import { selfUpdate } from './self-update.ts';
import {
  type CoreCryptoClient,
  coreCryptoClient,
  coreCryptoStyleIdentity,
  unwrapKeyPackage,
  wrapKeyPackage,
} from './testing-core-crypto.ts';
import { testingContext } from './testing-devices.ts';

type ConversationId = InstanceType<CoreCryptoClient['cc']['ConversationId']>;

const text = new TextEncoder();
const read = new TextDecoder();
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

let context: MlsClientContext;
beforeAll(async () => {
  context = await testingContext();
});

async function tsDevice(n: number) {
  const { accountId, deviceId } = coreCryptoStyleIdentity(n);
  const identity = await generateDeviceIdentity(accountId, deviceId);
  return { identity, keyPackage: await createKeyPackage(context, identity) };
}

async function ccKeyPackage(client: CoreCryptoClient): Promise<Uint8Array> {
  const kp = await client.core.transaction((ctx) => ctx.generateKeyPackage(client.credential));
  return kp.serialize();
}

async function ccDecrypt(client: CoreCryptoClient, conversation: ConversationId, bytes: Uint8Array) {
  return client.core.transaction((ctx) => ctx.decryptMessage(conversation, bytes));
}

async function ccReads(client: CoreCryptoClient, conversation: ConversationId, bytes: Uint8Array) {
  const decrypted = await ccDecrypt(client, conversation, bytes);
  const inner = decrypted.inner as { plaintext?: Uint8Array };
  if (inner.plaintext === undefined) throw new Error('core-crypto did not decrypt an application message');
  return read.decode(inner.plaintext);
}

async function ccEncrypt(client: CoreCryptoClient, conversation: ConversationId, words: string) {
  return client.core.transaction((ctx) => ctx.encryptMessage(conversation, text.encode(words)));
}

async function ccEpoch(client: CoreCryptoClient, conversation: ConversationId): Promise<bigint> {
  return client.core.transaction((ctx) => ctx.conversationEpoch(conversation));
}

/** core-crypto's MLS exporter secret (label "exporter", empty context, 32 bytes). */
async function ccExporter(client: CoreCryptoClient, conversation: ConversationId): Promise<string> {
  const key = await client.core.transaction((ctx) => ctx.exportSecretKey(conversation, 32));
  return hex(key.copyBytes());
}

async function tsExporter(group: MlsGroup): Promise<string> {
  return hex(await exportSecret(context, group, 'exporter', new Uint8Array(), 32));
}

async function tsReads(
  group: MlsGroup,
  bytes: Uint8Array,
): Promise<{ group: MlsGroup; words: string; from: string }> {
  const outcome = await processMessage(context, group, bytes);
  if (outcome.kind !== 'application')
    throw new Error(`expected an application message: ${JSON.stringify(outcome)}`);
  return {
    group: outcome.group,
    words: read.decode(outcome.plaintext),
    from: read.decode(outcome.sender!.identity),
  };
}

async function tsCommit(group: MlsGroup, bytes: Uint8Array): Promise<MlsGroup> {
  const outcome = await processMessage(context, group, bytes);
  if (outcome.kind !== 'commit') throw new Error(`expected a commit: ${JSON.stringify(outcome)}`);
  return outcome.group;
}

async function tsSays(group: MlsGroup, words: string): Promise<{ group: MlsGroup; message: Uint8Array }> {
  const sent = await encryptMessage(context, group, text.encode(words));
  return { group: sent.group, message: sent.message };
}

describe('interoperability with core-crypto 10.3.0 (OpenMLS)', () => {
  test('a packages/mls group takes in a core-crypto member: messages, updates, an add and a remove, both ways', async () => {
    const bob = await coreCryptoClient(0xb0b);
    const aliceDevice = await tsDevice(0xa11ce);
    let alice = await createGroup(context, aliceDevice.identity, text.encode('interop-ts-first'));

    const [added] = await addMembers(context, alice, [wrapKeyPackage(await ccKeyPackage(bob))], {
      treeInWelcome: true,
    });
    alice = added!.group;
    const conversation = await bob.core.transaction((ctx) =>
      ctx.processWelcomeMessage(new bob.cc.Welcome(added!.welcome!)),
    );
    expect(hex(conversation.copyBytes())).toBe(hex(alice.groupId));
    expect(await ccEpoch(bob, conversation)).toBe(alice.epoch);
    expect(groupMembers(alice).map((m) => read.decode(m.identity))).toContain(bob.identity);

    let said = await tsSays(alice, 'hello bob, from ts-mls');
    alice = said.group;
    expect(await ccReads(bob, conversation, said.message)).toBe('hello bob, from ts-mls');
    let heard = await tsReads(alice, await ccEncrypt(bob, conversation, 'hello alice, from OpenMLS'));
    alice = heard.group;
    expect(heard).toMatchObject({ words: 'hello alice, from OpenMLS', from: bob.identity });
    expect(await tsExporter(alice)).toBe(await ccExporter(bob, conversation));

    // alice updates; bob follows
    const update = await selfUpdate(context, alice);
    alice = update.group;
    await ccDecrypt(bob, conversation, update.commit);
    expect(await ccEpoch(bob, conversation)).toBe(alice.epoch);
    expect(await tsExporter(alice)).toBe(await ccExporter(bob, conversation));

    // bob updates; alice follows
    await bob.core.transaction((ctx) => ctx.updateKeyingMaterial(conversation));
    alice = await tsCommit(alice, bob.sent.at(-1)!.commit);
    expect(await ccEpoch(bob, conversation)).toBe(alice.epoch);
    expect(await tsExporter(alice)).toBe(await ccExporter(bob, conversation));

    // alice adds carol (packages/mls, tree served apart); bob follows; carol reads bob
    const carolDevice = await tsDevice(0xca201);
    const [withCarol] = await addMembers(context, alice, [carolDevice.keyPackage.keyPackage]);
    alice = withCarol!.group;
    await ccDecrypt(bob, conversation, withCarol!.commit);
    let carol = (
      await joinGroup(context, {
        welcome: withCarol!.welcome!,
        ratchetTree: withCarol!.ratchetTree!,
        keyPackages: [carolDevice.keyPackage],
      })
    ).group;
    const toBoth = await ccEncrypt(bob, conversation, 'welcome carol');
    heard = await tsReads(carol, toBoth);
    carol = heard.group;
    expect(heard.words).toBe('welcome carol');
    alice = (await tsReads(alice, toBoth)).group;

    // alice removes carol; bob follows; carol cannot read on
    const carolLeaf = carol.ownLeafIndex;
    const removal = await removeMembers(context, alice, [carolLeaf]);
    alice = removal.group;
    await ccDecrypt(bob, conversation, removal.commit);
    expect((await processMessage(context, carol, removal.commit)).kind).toBe('removed');
    const afterRemoval = await ccEncrypt(bob, conversation, 'carol has gone');
    heard = await tsReads(alice, afterRemoval);
    alice = heard.group;
    expect(heard.words).toBe('carol has gone');
    expect((await processMessage(context, carol, afterRemoval)).kind).toBe('failed');
    said = await tsSays(alice, 'and ts-mls reads on');
    alice = said.group;
    expect(await ccReads(bob, conversation, said.message)).toBe('and ts-mls reads on');
    expect(await tsExporter(alice)).toBe(await ccExporter(bob, conversation));
  }, 30_000);

  test('a core-crypto group takes in packages/mls members: join from its Welcome, messages, updates, an add and a remove', async () => {
    const olive = await coreCryptoClient(0x011fe);
    const conversation = new olive.cc.ConversationId(text.encode('interop-cc-first'));
    await olive.core.transaction((ctx) => ctx.createConversation(conversation, olive.credential));

    const daveDevice = await tsDevice(0xdafe);
    await olive.core.transaction((ctx) =>
      ctx.addClientsToConversation(conversation, [
        new olive.cc.KeyPackage(unwrapKeyPackage(daveDevice.keyPackage.keyPackage)),
      ]),
    );
    const welcome = olive.sent.at(-1)!.welcome!.serialize();
    // core-crypto's Welcome carries the tree: no tree served apart
    let dave = (await joinGroup(context, { welcome, keyPackages: [daveDevice.keyPackage] })).group;
    expect(hex(dave.groupId)).toBe(hex(text.encode('interop-cc-first')));
    expect(dave.epoch).toBe(await ccEpoch(olive, conversation));
    expect(groupMembers(dave).map((m) => read.decode(m.identity))).toEqual([
      olive.identity,
      `${daveDevice.identity.accountId}:${daveDevice.identity.deviceId}`,
    ]);

    let heard = await tsReads(dave, await ccEncrypt(olive, conversation, 'hi dave'));
    dave = heard.group;
    expect(heard).toMatchObject({ words: 'hi dave', from: olive.identity });
    const said = await tsSays(dave, 'hi olive');
    dave = said.group;
    expect(await ccReads(olive, conversation, said.message)).toBe('hi olive');
    expect(await tsExporter(dave)).toBe(await ccExporter(olive, conversation));

    // dave updates; olive follows
    const update = await selfUpdate(context, dave);
    dave = update.group;
    await ccDecrypt(olive, conversation, update.commit);
    expect(await tsExporter(dave)).toBe(await ccExporter(olive, conversation));

    // olive updates; dave follows
    await olive.core.transaction((ctx) => ctx.updateKeyingMaterial(conversation));
    dave = await tsCommit(dave, olive.sent.at(-1)!.commit);
    expect(await tsExporter(dave)).toBe(await ccExporter(olive, conversation));

    // olive adds erin (packages/mls); dave follows; erin joins and reads
    const erinDevice = await tsDevice(0xe21);
    await olive.core.transaction((ctx) =>
      ctx.addClientsToConversation(conversation, [
        new olive.cc.KeyPackage(unwrapKeyPackage(erinDevice.keyPackage.keyPackage)),
      ]),
    );
    const addErin = olive.sent.at(-1)!;
    dave = await tsCommit(dave, addErin.commit);
    let erin = (
      await joinGroup(context, {
        welcome: addErin.welcome!.serialize(),
        keyPackages: [erinDevice.keyPackage],
      })
    ).group;
    const toAll = await ccEncrypt(olive, conversation, 'three of us');
    erin = (await tsReads(erin, toAll)).group;
    heard = await tsReads(dave, toAll);
    dave = heard.group;
    expect(heard.words).toBe('three of us');

    // olive removes erin; dave follows; erin is out
    const erinId = new olive.cc.ClientId(
      new olive.cc.Uuid(coreCryptoStyleIdentity(0xe21).accountId),
      new olive.cc.DeviceId(0xe21n),
      'courier.test',
    );
    await olive.core.transaction((ctx) => ctx.removeClientsFromConversation(conversation, [erinId]));
    const removeErin = olive.sent.at(-1)!.commit;
    dave = await tsCommit(dave, removeErin);
    expect((await processMessage(context, erin, removeErin)).kind).toBe('removed');
    const after = await ccEncrypt(olive, conversation, 'two again');
    heard = await tsReads(dave, after);
    dave = heard.group;
    expect(heard.words).toBe('two again');
    expect((await processMessage(context, erin, after)).kind).toBe('failed');
    expect(groupMembers(dave)).toHaveLength(2);
    expect(await tsExporter(dave)).toBe(await ccExporter(olive, conversation));
  }, 30_000);

  test('core-crypto refuses a path-less single-Remove commit, and takes the same removal with its UpdatePath', async () => {
    const bob = await coreCryptoClient(0xb0b2);
    const aliceDevice = await tsDevice(0xa11ce2);
    const carolDevice = await tsDevice(0xca202);
    let alice = await createGroup(context, aliceDevice.identity, text.encode('interop-pathless'));
    const [added] = await addMembers(
      context,
      alice,
      [wrapKeyPackage(await ccKeyPackage(bob)), carolDevice.keyPackage.keyPackage],
      { treeInWelcome: true },
    );
    alice = added!.group;
    const conversation = await bob.core.transaction((ctx) =>
      ctx.processWelcomeMessage(new bob.cc.Welcome(added!.welcome!)),
    );
    const carolLeaf = groupMembers(alice).find(
      (m) => m.accountId === coreCryptoStyleIdentity(0xca202).accountId,
    )!.leafIndex;

    const forged = await dangerouslyForgePathlessCommit(
      { cipherSuite: context.library.cipherSuite, authService: unsafeTestingAuthenticationService },
      alice.state,
      [{ proposalType: defaultProposalTypes.remove, remove: { removed: carolLeaf } }],
    );
    const epoch = await ccEpoch(bob, conversation);
    const refusal = await ccDecrypt(bob, conversation, forged).then(
      () => undefined,
      (e: unknown) => e,
    );
    // OpenMLS: "Unable to determine commit path." (its RequiredPathNotFound), not some other fault
    expect(JSON.stringify(refusal)).toContain('commit path');
    expect(await ccEpoch(bob, conversation)).toBe(epoch);

    const removal = await removeMembers(context, alice, [carolLeaf]);
    alice = removal.group;
    await ccDecrypt(bob, conversation, removal.commit);
    expect(await ccEpoch(bob, conversation)).toBe(epoch + 1n);
    expect(await tsExporter(alice)).toBe(await ccExporter(bob, conversation));
  }, 30_000);

  test('issue 11: core-crypto and packages/mls both join the tree left by create, add 2, add 1, remove, add 2', async () => {
    const ownerDevice = await tsDevice(0x11a0);
    let owner = await createGroup(context, ownerDevice.identity, text.encode('interop-issue-11'));
    const early = await Promise.all([0x11a1, 0x11a2, 0x11a3, 0x11a4].map(tsDevice));
    for (const batch of [early.slice(0, 1), early.slice(1, 3), early.slice(3)]) {
      const [added] = await addMembers(
        context,
        owner,
        batch.map((d) => d.keyPackage.keyPackage),
      );
      owner = added!.group;
    }
    owner = (await removeMembers(context, owner, [2])).group;

    // The last add: core-crypto's client takes leaf 2 (the one whose join rc.10 refused), ours leaf 5.
    const olive = await coreCryptoClient(0x11c0);
    const newcomer = await tsDevice(0x11a5);
    const [last] = await addMembers(
      context,
      owner,
      [wrapKeyPackage(await ccKeyPackage(olive)), newcomer.keyPackage.keyPackage],
      { treeInWelcome: true },
    );
    owner = last!.group;
    const root = owner.state.ratchetTree[7];
    const node3 = owner.state.ratchetTree[3];
    expect(root?.nodeType === 2 ? root.parent.unmergedLeaves : undefined).toEqual([2, 5]);
    expect(node3?.nodeType === 2 ? node3.parent.unmergedLeaves : undefined).toEqual([2]);

    // The independent implementation validates the whole tree (RFC 9420 §12.4.3.1) and accepts it...
    const conversation = await olive.core.transaction((ctx) =>
      ctx.processWelcomeMessage(new olive.cc.Welcome(last!.welcome!)),
    );
    expect(await ccEpoch(olive, conversation)).toBe(owner.epoch);
    expect(await tsExporter(owner)).toBe(await ccExporter(olive, conversation));
    expect(groupMembers(owner).find((m) => read.decode(m.identity) === olive.identity)?.leafIndex).toBe(2);
    // ...and so does packages/mls now, from the same Welcome.
    let joined = (await joinGroup(context, { welcome: last!.welcome!, keyPackages: [newcomer.keyPackage] }))
      .group;
    expect(joined.ownLeafIndex).toBe(5);
    expect(await tsExporter(joined)).toBe(await ccExporter(olive, conversation));

    const said = await tsSays(owner, 'welcome both');
    owner = said.group;
    expect(await ccReads(olive, conversation, said.message)).toBe('welcome both');
    const reply = await ccEncrypt(olive, conversation, 'thanks, from OpenMLS');
    const heard = await tsReads(joined, reply);
    joined = heard.group;
    expect(heard).toMatchObject({ words: 'thanks, from OpenMLS', from: olive.identity });
  }, 60_000);
});
