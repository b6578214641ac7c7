import { beforeAll, describe, expect, test } from 'vitest';
import { addMembers } from './add-members.ts';
import { createGroup } from './create-group.ts';
import { encryptMessage } from './encrypt-message.ts';
import { eraseSecrets } from './erase-secrets.ts';
import { exportGroupState, GROUP_STATE_VERSION, importGroupState } from './group-state-codec.ts';
import { joinGroup } from './join-group.ts';
import type { MlsClientContext } from './mls-context.ts';
import { groupMembers, type MlsGroup } from './mls-group.ts';
import { type IncomingOutcome, processMessage } from './process-message.ts';
import { removeMembers } from './remove-members.ts';
import { selfUpdate } from './self-update.ts';
import { type TestDevice, testingContext, testingDevice } from './testing-devices.ts';

const text = new TextEncoder();
const read = new TextDecoder();
let context: MlsClientContext;
beforeAll(async () => {
  context = await testingContext();
});

/** Delivers bytes to each device, adopting the new group; returns the outcomes by device index. */
async function deliver(
  devices: TestDevice[],
  bytes: Uint8Array,
  except: TestDevice,
): Promise<IncomingOutcome[]> {
  const outcomes: IncomingOutcome[] = [];
  for (const device of devices) {
    if (device === except || device.group === undefined) continue;
    const outcome = await processMessage(context, device.group, bytes);
    outcomes.push(outcome);
    if (outcome.kind !== 'failed') device.group = outcome.group;
    if (outcome.kind === 'application' || outcome.kind === 'commit') eraseSecrets(outcome.consumed);
  }
  return outcomes;
}

async function say(devices: TestDevice[], from: TestDevice, words: string): Promise<string[]> {
  const sent = await encryptMessage(context, from.group!, text.encode(words));
  from.group = sent.group;
  eraseSecrets(sent.consumed);
  const outcomes = await deliver(devices, sent.message, from);
  return outcomes.map((outcome) =>
    outcome.kind === 'application' ? read.decode(outcome.plaintext) : outcome.kind,
  );
}

describe('a small conversation through the wrapper', () => {
  test('create, add two, talk, self-update, save and restore mid-conversation, remove', async () => {
    const alice = await testingDevice(context, 'alice');
    const bob = await testingDevice(context, 'bob');
    const carol = await testingDevice(context, 'carol');
    const devices = [alice, bob, carol];

    alice.group = await createGroup(context, alice.identity, text.encode('chat-1'));
    expect(alice.group.epoch).toBe(0n);
    const [added] = await addMembers(context, alice.group, [
      bob.keyPackages[0]!.keyPackage,
      carol.keyPackages[0]!.keyPackage,
    ]);
    alice.group = added!.group;
    eraseSecrets(added!.consumed);
    for (const device of [bob, carol]) {
      const joined = await joinGroup(context, {
        welcome: added!.welcome!,
        ratchetTree: added!.ratchetTree!,
        keyPackages: device.keyPackages,
      });
      expect(joined.keyPackageRef).toEqual(device.keyPackages[0]!.ref);
      device.group = joined.group;
    }
    expect(groupMembers(bob.group!).map((m) => `${m.accountId}:${m.deviceId}`)).toEqual([
      'alice:d1',
      'bob:d1',
      'carol:d1',
    ]);

    expect(await say(devices, alice, 'hello both')).toEqual(['hello both', 'hello both']);
    expect(await say(devices, bob, 'hi alice')).toEqual(['hi alice', 'hi alice']);

    const update = await selfUpdate(context, carol.group!);
    carol.group = update.group;
    eraseSecrets(update.consumed);
    const updateOutcomes = await deliver(devices, update.commit, carol);
    expect(updateOutcomes.map((o) => o.kind)).toEqual(['commit', 'commit']);
    expect(alice.group!.epoch).toBe(2n);

    // Bob saves his state, the conversation goes on, and Bob restarts from what he saved.
    const saved = exportGroupState(bob.group!);
    expect(saved[0]).toBe(GROUP_STATE_VERSION);
    expect(await say(devices, carol, 'after update')).toEqual(['after update', 'after update']);
    const restored: MlsGroup = importGroupState(saved);
    expect(restored.epoch).toBe(bob.group!.epoch);
    bob.group = restored;
    expect(await say(devices, alice, 'are you back?')).toEqual(['are you back?', 'are you back?']);
    expect(await say(devices, bob, 'yes')).toEqual(['yes', 'yes']);

    const removal = await removeMembers(context, alice.group!, [carol.group!.ownLeafIndex]);
    alice.group = removal.group;
    const removalOutcomes = await deliver(devices, removal.commit, alice);
    expect(removalOutcomes.map((o) => o.kind)).toEqual(['commit', 'removed']);
    expect(carol.group!.active).toBe(false);
    expect(await say(devices, bob, 'carol left')).toEqual(['carol left', 'failed']);
    expect(groupMembers(alice.group!).map((m) => m.accountId)).toEqual(['alice', 'bob']);
  });

  test('adds 50 members in batches, and everyone can read the creator', async () => {
    const creator = await testingDevice(context, 'creator');
    const others = await Promise.all(Array.from({ length: 50 }, (_, i) => testingDevice(context, `m${i}`)));
    creator.group = await createGroup(context, creator.identity, text.encode('big'));
    const steps = await addMembers(
      context,
      creator.group,
      others.map((o) => o.keyPackages[0]!.keyPackage),
      { maxPerCommit: 20 },
    );
    expect(steps).toHaveLength(3);
    expect(steps.map((s) => s.group.epoch)).toEqual([1n, 2n, 3n]);
    creator.group = steps.at(-1)!.group;
    // Members of earlier batches process the later commits; members join at the epoch of their batch.
    for (const [batch, step] of steps.entries()) {
      for (const member of others.slice(batch * 20, batch * 20 + 20)) {
        member.group = (
          await joinGroup(context, {
            welcome: step.welcome!,
            ratchetTree: step.ratchetTree!,
            keyPackages: member.keyPackages,
          })
        ).group;
      }
      for (const member of others.slice(0, batch * 20)) {
        const outcome = await processMessage(context, member.group!, step.commit);
        expect(outcome.kind).toBe('commit');
        member.group = outcome.group;
      }
    }
    const heard = await say([creator, ...others], creator, 'welcome all');
    expect(heard).toHaveLength(50);
    expect(new Set(heard)).toEqual(new Set(['welcome all']));
    expect(groupMembers(creator.group)).toHaveLength(51);
  });
});
