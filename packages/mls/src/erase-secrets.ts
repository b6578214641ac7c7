import { zeroOutUint8Array } from 'ts-mls';

/**
 * Overwrites with zeros the secrets an operation reported as consumed (`consumed` of its result). Call
 * it after the new group state is persisted, so a crash in between cannot lose the keys still needed.
 */
export function eraseSecrets(consumed: readonly Uint8Array[]): void {
  for (const secret of consumed) zeroOutUint8Array(secret);
}
