import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FileClientStore } from './file-client-store.ts';

describe('the CLI client store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-store-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('survives a restart: positions and the outbox come back, private to the user', () => {
    const path = join(dir, 'a', 'store.json');
    const store = new FileClientStore(path);
    store.setLastSeq('g_1', 5);
    store.setLastMailboxSeq(3);
    store.putOutbox({ kind: 'group', target: 'g_1', clientMsgId: 'm1', payload: Uint8Array.of(1, 2, 3) });
    store.putOutbox({ kind: 'device', target: 'd_1', clientMsgId: 'm2', payload: new Uint8Array() });
    store.removeOutbox('m2');
    const again = new FileClientStore(path);
    expect(again.lastSeq('g_1')).toBe(5);
    expect(again.lastSeq('g_2')).toBe(0);
    expect(again.lastMailboxSeq()).toBe(3);
    expect(again.outbox()).toEqual([
      { kind: 'group', target: 'g_1', clientMsgId: 'm1', payload: Uint8Array.of(1, 2, 3) },
    ]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'a'))).toEqual(['store.json']);
  });

  it('keeps the highest position whatever order positions arrive in', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1000 }), { maxLength: 30 }), (seqs) => {
        const path = join(dir, `p-${Math.random()}.json`);
        const store = new FileClientStore(path);
        for (const s of seqs) store.setLastSeq('g', s);
        expect(new FileClientStore(path).lastSeq('g')).toBe(Math.max(0, ...seqs));
      }),
      { numRuns: 50 },
    );
  });

  it('refuses a corrupted file loudly instead of starting over (which would show everything again)', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{not json');
    expect(() => new FileClientStore(path)).toThrow(/not readable JSON/);
  });
});
