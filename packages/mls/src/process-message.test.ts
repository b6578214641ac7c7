import fc from 'fast-check';
import { createCommit, encode, mlsMessageEncoder } from 'ts-mls';
import { beforeAll, describe, expect, test } from 'vitest';
import { encryptMessage } from './encrypt-message.ts';
import type { MlsClientContext } from './mls-context.ts';
import { processMessage } from './process-message.ts';
import { selfUpdate } from './self-update.ts';
import { type TestDevice, testingContext, testingGroup } from './testing-devices.ts';

let context: MlsClientContext;
let alice: TestDevice;
let bob: TestDevice;
beforeAll(async () => {
  context = await testingContext();
  [alice, bob] = (await testingGroup(context, 2)) as [TestDevice, TestDevice];
});

describe('bad incoming messages are failure values, never exceptions', () => {
  test('a tampered ciphertext is MLS_DECRYPT_FAILED and leaves the group as it was', async () => {
    const sent = await encryptMessage(context, alice.group!, new TextEncoder().encode('original'));
    alice.group = sent.group;
    const tampered = sent.message.slice();
    tampered[tampered.length - 5]! ^= 0x01;
    const outcome = await processMessage(context, bob.group!, tampered);
    expect(outcome).toMatchObject({ kind: 'failed', code: 'MLS_DECRYPT_FAILED' });
    expect(outcome.group).toBe(bob.group);
    const good = await processMessage(context, bob.group!, sent.message);
    expect(good.kind).toBe('application');
    // The same message again: its key is gone, so the replay fails.
    const replay = await processMessage(context, good.group, sent.message);
    expect(replay).toMatchObject({ kind: 'failed', code: 'MLS_DECRYPT_FAILED' });
    bob.group = good.group;
  });

  test('the sender of an application message is reported', async () => {
    const sent = await encryptMessage(context, alice.group!, new TextEncoder().encode('who'));
    alice.group = sent.group;
    const outcome = await processMessage(context, bob.group!, sent.message);
    if (outcome.kind !== 'application') throw new Error(outcome.kind);
    expect(outcome.sender).toMatchObject({ leafIndex: 0, accountId: 'acct0', deviceId: 'd1' });
    bob.group = outcome.group;
  });

  test('a commit inside a PrivateMessage is MLS_NOT_PUBLIC_MESSAGE', async () => {
    const privateCommit = await createCommit({ context: context.library, state: alice.group!.state });
    const outcome = await processMessage(
      context,
      bob.group!,
      encode(mlsMessageEncoder, privateCommit.commit),
    );
    expect(outcome).toMatchObject({ kind: 'failed', code: 'MLS_NOT_PUBLIC_MESSAGE' });
  });

  test('a commit for an old epoch is MLS_WRONG_EPOCH; a Welcome is MLS_UNEXPECTED_MESSAGE', async () => {
    const stale = await selfUpdate(context, alice.group!);
    const fresh = await processMessage(context, bob.group!, stale.commit);
    expect(fresh.kind).toBe('commit');
    expect(await processMessage(context, fresh.group, stale.commit)).toMatchObject({
      code: 'MLS_WRONG_EPOCH',
    });
    expect(await processMessage(context, bob.group!, new Uint8Array([0, 1, 0, 3]))).toMatchObject({
      code: 'MLS_MALFORMED',
    });
  });

  test('property: arbitrary bytes, and corrupted real messages, only ever give an outcome', async () => {
    const sent = await encryptMessage(context, alice.group!, new TextEncoder().encode('p'));
    const commit = (await selfUpdate(context, alice.group!)).commit;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc
            .tuple(fc.constantFrom(sent.message, commit), fc.nat(), fc.integer({ min: 1, max: 255 }))
            .map(([real, at, flip]) => {
              const copy = real.slice();
              copy[at % copy.length]! ^= flip;
              return copy;
            }),
          fc
            .tuple(fc.constantFrom(sent.message, commit), fc.nat())
            .map(([real, cut]) => real.slice(0, cut % real.length)),
        ),
        async (bytes) => {
          const outcome = await processMessage(context, bob.group!, bytes);
          expect(['failed', 'application', 'commit', 'proposal']).toContain(outcome.kind);
        },
      ),
      { numRuns: 150 },
    );
  });
});
