import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { addMembers } from './add-members.ts';
import { encryptMessage } from './encrypt-message.ts';
import { assertUpdatePathRule, inspectHandshake } from './inspect-handshake.ts';
import type { MlsClientContext } from './mls-context.ts';
import { MlsError, type MlsErrorCode } from './mls-error.ts';
import { removeMembers } from './remove-members.ts';
import { requiresUpdatePath } from './requires-update-path.ts';
import { selfUpdate } from './self-update.ts';
import { type TestDevice, testingContext, testingDevice, testingGroup } from './testing-devices.ts';

const INSPECT_CODES: MlsErrorCode[] = ['MLS_MALFORMED', 'MLS_NOT_PUBLIC_MESSAGE', 'MLS_UNEXPECTED_MESSAGE'];

let context: MlsClientContext;
let devices: TestDevice[];
let addCommit: Uint8Array;
let welcome: Uint8Array;
let removeCommit: Uint8Array;
let updateCommit: Uint8Array;
let application: Uint8Array;

beforeAll(async () => {
  context = await testingContext();
  devices = await testingGroup(context, 3);
  const creator = devices[0]!;
  const newcomer = await testingDevice(context, 'newcomer');
  const [added] = await addMembers(context, creator.group!, [newcomer.keyPackages[0]!.keyPackage]);
  addCommit = added!.commit;
  welcome = added!.welcome!;
  removeCommit = (await removeMembers(context, creator.group!, [1, 2])).commit;
  updateCommit = (await selfUpdate(context, devices[1]!.group!)).commit;
  application = (await encryptMessage(context, creator.group!, new Uint8Array([1, 2, 3]))).message;
});

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof MlsError ? error.code : `not an MlsError: ${String(error)}`;
  }
}

describe('inspectHandshake', () => {
  test('an add commit: group, epoch, sender, the added identity, no path', () => {
    const summary = inspectHandshake(addCommit);
    expect(summary).toMatchObject({
      groupId: devices[0]!.group!.groupId,
      epoch: 1n,
      contentType: 'commit',
      sender: { kind: 'member', leafIndex: 0 },
      senderLeafIndex: 0,
      hasUpdatePath: false,
    });
    expect(summary.proposals).toHaveLength(1);
    expect(summary.proposals[0]).toMatchObject({
      kind: 'add',
      accountId: 'newcomer',
      deviceId: 'd1',
      cipherSuite: 1,
    });
    expect(requiresUpdatePath(summary.proposals)).toBe(false);
    expect(() => assertUpdatePathRule(summary)).not.toThrow();
  });

  test('a remove commit lists the removed leaves and carries a path; a self-update is an empty commit with a path', () => {
    const removal = inspectHandshake(removeCommit);
    expect(removal.proposals).toEqual([
      { kind: 'remove', removedLeafIndex: 1 },
      { kind: 'remove', removedLeafIndex: 2 },
    ]);
    expect(removal.hasUpdatePath).toBe(true);
    const update = inspectHandshake(updateCommit);
    expect(update).toMatchObject({ senderLeafIndex: 1, proposals: [], hasUpdatePath: true });
    expect(requiresUpdatePath(update.proposals)).toBe(true);
  });

  test('a PrivateMessage is MLS_NOT_PUBLIC_MESSAGE; a Welcome is MLS_UNEXPECTED_MESSAGE', () => {
    expect(codeOf(() => inspectHandshake(application))).toBe('MLS_NOT_PUBLIC_MESSAGE');
    expect(codeOf(() => inspectHandshake(welcome))).toBe('MLS_UNEXPECTED_MESSAGE');
    expect(codeOf(() => inspectHandshake(new Uint8Array()))).toBe('MLS_MALFORMED');
    expect(codeOf(() => inspectHandshake(new Uint8Array([...addCommit, 0])))).toBe('MLS_MALFORMED');
  });

  test('property: arbitrary bytes never throw anything but a typed MlsError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const code = codeOf(() => inspectHandshake(bytes));
        if (code !== undefined) expect(INSPECT_CODES).toContain(code);
      }),
      { numRuns: 2000 },
    );
  });

  test('property: every truncation of a real commit is MLS_MALFORMED', () => {
    for (const commit of [addCommit, removeCommit, updateCommit]) {
      for (let cut = 0; cut < commit.length; cut++) {
        expect(codeOf(() => inspectHandshake(commit.subarray(0, cut)))).toBe('MLS_MALFORMED');
      }
    }
  });

  test('property: corrupted real handshake messages decode or fail with a typed error', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(addCommit, removeCommit, updateCommit, welcome, application),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        (real, flips) => {
          const bytes = real.slice();
          for (const [at, flip] of flips) bytes[at % bytes.length]! ^= flip;
          const code = codeOf(() => inspectHandshake(bytes));
          if (code !== undefined) expect(INSPECT_CODES).toContain(code);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('requiresUpdatePath (RFC 9420 §12.4)', () => {
  test('the table: path optional only for a non-empty set of add, psk and reinit', () => {
    expect(requiresUpdatePath([])).toBe(true);
    expect(requiresUpdatePath([{ kind: 'add' }, { kind: 'psk' }, { kind: 'reinit' }])).toBe(false);
    for (const kind of [
      'update',
      'remove',
      'external_init',
      'group_context_extensions',
      'custom',
      'reference',
    ] as const) {
      expect(requiresUpdatePath([{ kind }])).toBe(true);
      expect(requiresUpdatePath([{ kind: 'add' }, { kind }])).toBe(true);
    }
  });
});
