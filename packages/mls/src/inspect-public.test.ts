import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKeyPackage } from './key-package.ts';
import { encryptMessage } from './encrypt-message.ts';
import { exportRatchetTree } from './mls-group.ts';
import { inspectApplicationMessage, inspectKeyPackage, inspectRatchetTree } from './inspect-public.ts';
import { MlsError } from './mls-error.ts';
import { opaqueApplicationMessage, opaqueBody } from './opaque-envelope.ts';
import { testingContext, testingDevice, testingGroup } from './testing-devices.ts';

const junk = fc.uint8Array({ maxLength: 300 });

function refusesWithMlsError(read: (bytes: Uint8Array) => unknown): void {
  fc.assert(
    fc.property(junk, (bytes) => {
      try {
        read(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(MlsError);
      }
    }),
  );
}

describe('secret-free readings for the delivery service', () => {
  it('reads a key package: identity, key, last-resort flag and its ref', async () => {
    const context = await testingContext();
    const device = await testingDevice(context, 'acct1');
    const lastResort = await createKeyPackage(context, device.identity, { lastResort: true });
    const oneTime = await inspectKeyPackage(device.keyPackages[0]!.keyPackage);
    expect(oneTime).toMatchObject({ accountId: 'acct1', deviceId: 'd1', cipherSuite: 1, lastResort: false });
    expect(oneTime.signaturePublicKey).toEqual(device.identity.signaturePublicKey);
    expect(oneTime.ref).toBe(Buffer.from(device.keyPackages[0]!.ref).toString('hex'));
    expect((await inspectKeyPackage(lastResort.keyPackage)).lastResort).toBe(true);
  });

  it('reads the devices of a ratchet tree and the header of an application message', async () => {
    const context = await testingContext();
    const [creator] = await testingGroup(context, 3);
    const leaves = inspectRatchetTree(exportRatchetTree(creator!.group!));
    expect(leaves.map((l) => [l.leafIndex, l.accountId])).toEqual([
      [0, 'acct0'],
      [1, 'acct1'],
      [2, 'acct2'],
    ]);
    const sent = await encryptMessage(context, creator!.group!, new TextEncoder().encode('hi'));
    const header = inspectApplicationMessage(sent.message);
    expect(header.epoch).toBe(creator!.group!.epoch);
    expect(header.groupId).toEqual(creator!.group!.groupId);
  });

  it('refuses junk with a typed MlsError, never a crash', async () => {
    refusesWithMlsError(inspectRatchetTree);
    refusesWithMlsError(inspectApplicationMessage);
    await fc.assert(
      fc.asyncProperty(junk, async (bytes) => {
        await inspectKeyPackage(bytes).catch((error: unknown) => expect(error).toBeInstanceOf(MlsError));
      }),
    );
  });

  it('wraps and unwraps opaque bodies for delivery tests', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), junk, (groupId, body) => {
        const wrapped = opaqueApplicationMessage(groupId, body);
        expect(opaqueBody(wrapped)).toEqual(body);
        expect(new TextDecoder().decode(inspectApplicationMessage(wrapped).groupId)).toBe(groupId);
      }),
    );
  });
});
