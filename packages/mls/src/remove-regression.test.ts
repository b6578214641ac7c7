/**
 * Issue 3's regression test for rc.10's defect: a single-Remove commit without an UpdatePath let the
 * removed member derive the next epoch's keys. Through the wrapper, with the patched library.
 */
import { decode, defaultProposalTypes, mlsMessageDecoder, unsafeTestingAuthenticationService } from 'ts-mls';
import { beforeAll, describe, expect, test } from 'vitest';
import { dangerouslyForgePathlessCommit } from './dangerously-forge-pathless-commit.ts';
import { encryptMessage } from './encrypt-message.ts';
import { exportGroupState, importGroupState } from './group-state-codec.ts';
import { assertUpdatePathRule, inspectHandshake } from './inspect-handshake.ts';
import type { MlsClientContext } from './mls-context.ts';
import { MlsError } from './mls-error.ts';
import { processMessage } from './process-message.ts';
import { removeMembers } from './remove-members.ts';
import { requiresUpdatePath } from './requires-update-path.ts';
import { testingContext, testingGroup } from './testing-devices.ts';

let context: MlsClientContext;
beforeAll(async () => {
  context = await testingContext();
});

describe('removing one member of three', () => {
  test('the removed member cannot decrypt the next application message', async () => {
    const [alice, bob, carol] = await testingGroup(context, 3);
    // Carol keeps a copy of her state from before the removal, as an attacker would.
    const carolBefore = exportGroupState(carol!.group!);

    const removal = await removeMembers(context, alice!.group!, [2]);
    const summary = inspectHandshake(removal.commit);
    expect(summary.proposals).toEqual([{ kind: 'remove', removedLeafIndex: 2 }]);
    expect(summary.hasUpdatePath).toBe(true);
    alice!.group = removal.group;
    const bobOutcome = await processMessage(context, bob!.group!, removal.commit);
    expect(bobOutcome.kind).toBe('commit');
    bob!.group = bobOutcome.group;
    const carolOutcome = await processMessage(context, carol!.group!, removal.commit);
    expect(carolOutcome.kind).toBe('removed');

    const next = await encryptMessage(context, alice!.group!, new TextEncoder().encode('not for carol'));
    const bobReads = await processMessage(context, bob!.group!, next.message);
    expect(bobReads.kind).toBe('application');

    // With the removed state, and with the state from before the removal: no plaintext either way.
    expect(await processMessage(context, carolOutcome.group, next.message)).toMatchObject({
      kind: 'failed',
      code: 'MLS_NOT_MEMBER',
    });
    expect(await processMessage(context, importGroupState(carolBefore), next.message)).toMatchObject({
      kind: 'failed',
      code: 'MLS_DECRYPT_FAILED',
    });
    // The removed member's library state after the commit holds no key of the new epoch.
    expect(carolOutcome.group.epoch).toBeLessThan(alice!.group!.epoch);
  });

  test('a hand-built path-less single-Remove commit is refused by the client and by the server checks', async () => {
    const [alice, bob] = await testingGroup(context, 3);
    const forged = await dangerouslyForgePathlessCommit(
      { cipherSuite: context.library.cipherSuite, authService: unsafeTestingAuthenticationService },
      alice!.group!.state,
      [{ proposalType: defaultProposalTypes.remove, remove: { removed: 2 } }],
    );
    expect(decode(mlsMessageDecoder, forged)).toBeDefined();

    // The delivery service, without any key:
    const summary = inspectHandshake(forged);
    expect(summary).toMatchObject({ contentType: 'commit', senderLeafIndex: 0, hasUpdatePath: false });
    expect(requiresUpdatePath(summary.proposals)).toBe(true);
    expect(() => assertUpdatePathRule(summary)).toThrow(MlsError);
    try {
      assertUpdatePathRule(summary);
    } catch (error) {
      expect((error as MlsError).code).toBe('MLS_MISSING_UPDATE_PATH');
    }

    // The client, through the wrapper (the patched library refuses it too: see ts-mls-patch.test.ts):
    const outcome = await processMessage(context, bob!.group!, forged);
    expect(outcome).toMatchObject({ kind: 'failed', code: 'MLS_MISSING_UPDATE_PATH' });
    expect(outcome.group).toBe(bob!.group);
  });
});
