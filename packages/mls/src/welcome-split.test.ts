import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMembers } from './add-members.ts';
import { createGroup } from './create-group.ts';
import { joinGroup } from './join-group.ts';
import { MlsError } from './mls-error.ts';
import { testingContext, testingDevice } from './testing-devices.ts';
import { addedKeyPackageRefs, splitWelcome } from './welcome-split.ts';

describe('splitting a Welcome per new member', () => {
  it('gives each added device a Welcome it can join with, and only it', async () => {
    const context = await testingContext();
    const [creator, ...joiners] = await Promise.all(
      ['c', 'j1', 'j2', 'j3'].map((name) => testingDevice(context, name)),
    );
    const group = await createGroup(context, creator!.identity, new TextEncoder().encode('split'));
    const [added] = await addMembers(
      context,
      group,
      joiners.map((j) => j.keyPackages[0]!.keyPackage),
    );
    const refs = await addedKeyPackageRefs(added!.commit);
    const parts = splitWelcome(added!.welcome!);
    expect(refs).toHaveLength(3);
    expect([...parts.keys()].sort()).toEqual([...refs].sort());
    for (const [i, joiner] of joiners.entries()) {
      const part = parts.get(refs[i]!)!;
      expect(part.length).toBeLessThan(added!.welcome!.length);
      const joined = await joinGroup(context, {
        welcome: part,
        ratchetTree: added!.ratchetTree!,
        keyPackages: joiner.keyPackages,
      });
      expect(joined.group.epoch).toBe(added!.group.epoch);
      const other = joiners[(i + 1) % joiners.length]!;
      await expect(
        joinGroup(context, {
          welcome: part,
          ratchetTree: added!.ratchetTree!,
          keyPackages: other.keyPackages,
        }),
      ).rejects.toMatchObject({ code: 'MLS_NO_MATCHING_KEY_PACKAGE' });
    }
  });

  it('refuses anything that is not a Welcome with MLS_MALFORMED', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
        try {
          splitWelcome(junk);
        } catch (error) {
          expect(error).toBeInstanceOf(MlsError);
          expect((error as MlsError).code).toBe('MLS_MALFORMED');
        }
      }),
    );
  });
});
