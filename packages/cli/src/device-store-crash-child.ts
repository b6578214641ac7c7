/**
 * Test helper (device-store.test.ts): saves one group over and over into a device store until it is
 * killed. Save n writes the secret part "n" and, of its 12 pages, those that n changes (page i holds the
 * number of the last save that wrote it: saves write pages i ≡ n mod 3, and every page on the first
 * save), so that a state read after a kill shows whether its secret part and pages came from one save,
 * and whether the chat's cursor (moved to n by the same save) went with them.
 */
import { groupStateChange } from '@courier/mls';
import { DeviceStore } from './device-store.ts';

export const PAGES = 12;

/** The whole state after save n. */
export function stateAfter(n: number): { secrets: Uint8Array; pages: Uint8Array[] } {
  const page = (i: number) => {
    let last = n;
    while (last > 1 && last % 3 !== i % 3) last--;
    return new TextEncoder().encode(`page ${i} of save ${last}`.padEnd(3000, '.'));
  };
  return {
    secrets: new TextEncoder().encode(`secrets of save ${n}`),
    pages: Array.from({ length: PAGES }, (_, i) => page(i)),
  };
}

if (process.argv[2]) {
  const store = new DeviceStore(process.argv[2]);
  let version: number | undefined;
  let before: ReturnType<typeof stateAfter> | undefined;
  for (let n = 1; ; n++) {
    const next = stateAfter(n);
    // As a client handling entry n: the state and the chat's cursor in one save.
    if (
      !(await store.saveGroup('g', { state: groupStateChange(before, next), seq: n }, version, { cursor: n }))
    )
      throw new Error('save refused');
    version = (version ?? 0) + 1;
    before = next;
    if (n === 5) process.stdout.write('saving\n');
  }
}
