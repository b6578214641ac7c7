/** Test helpers: devices with key packages, and groups of them built through this package's API. */
import { addMembers } from './add-members.ts';
import { createGroup } from './create-group.ts';
import { type DeviceIdentity, generateDeviceIdentity } from './device-identity.ts';
import { joinGroup } from './join-group.ts';
import { createKeyPackage, type StoredKeyPackage } from './key-package.ts';
import { createMlsClientContext, type MlsClientContext } from './mls-context.ts';
import type { MlsGroup } from './mls-group.ts';

export interface TestDevice {
  readonly identity: DeviceIdentity;
  readonly keyPackages: StoredKeyPackage[];
  group: MlsGroup | undefined;
}

export async function testingContext(): Promise<MlsClientContext> {
  return createMlsClientContext();
}

export async function testingDevice(context: MlsClientContext, accountId: string): Promise<TestDevice> {
  const identity = await generateDeviceIdentity(accountId, 'd1');
  return { identity, keyPackages: [await createKeyPackage(context, identity)], group: undefined };
}

/** A group whose creator is devices[0]; the others join through Welcome + separately served tree. */
export async function testingGroup(context: MlsClientContext, size: number): Promise<TestDevice[]> {
  const devices = await Promise.all(
    Array.from({ length: size }, (_, i) => testingDevice(context, `acct${i}`)),
  );
  const creator = devices[0]!;
  creator.group = await createGroup(
    context,
    creator.identity,
    new TextEncoder().encode(`group-${Math.random()}`),
  );
  if (size === 1) return devices;
  const [added] = await addMembers(
    context,
    creator.group,
    devices.slice(1).map((device) => device.keyPackages[0]!.keyPackage),
  );
  creator.group = added!.group;
  for (const device of devices.slice(1)) {
    const joined = await joinGroup(context, {
      welcome: added!.welcome!,
      ratchetTree: added!.ratchetTree!,
      keyPackages: device.keyPackages,
    });
    device.group = joined.group;
  }
  return devices;
}
