import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FileClientStore } from './file-client-store.ts';

const item = (id: string, bytes: number[] = [1, 2, 3]) => ({
  kind: 'group' as const,
  target: 'g_1',
  clientMsgId: id,
  payload: Uint8Array.from(bytes),
});

/** Runs `count` stores in separate processes, each setting seqs and outbox items on one file. */
function writerProcess(path: string, id: string, count: number): Promise<number> {
  const storeModule = fileURLToPath(new URL('./file-client-store.ts', import.meta.url));
  const script = `
    const { FileClientStore } = await import(${JSON.stringify(storeModule)});
    const store = new FileClientStore(${JSON.stringify(path)});
    for (let i = 1; i <= ${count}; i++) {
      store.setLastSeq('g', i * 2 + ${id === 'a' ? 0 : 1});
      store.putOutbox({ kind: 'group', target: 'g', clientMsgId: '${id}' + i, payload: new Uint8Array([i]) });
      if (i % 2 === 0) store.removeOutbox('${id}' + i);
    }`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: 'inherit',
    });
    child.on('close', (code) => resolve(code ?? -1));
  });
}

describe('the CLI client store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-store-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('survives a restart: positions and the outbox come back, private to the user', () => {
    const path = join(dir, 'a', 'store.json');
    const store = new FileClientStore(path);
    store.setLastSeq('g_1', 5);
    store.setLastMailboxSeq(3);
    store.putOutbox(item('m1'));
    store.putOutbox({ kind: 'device', target: 'd_1', clientMsgId: 'm2', payload: new Uint8Array() });
    store.removeOutbox('m2');
    const again = new FileClientStore(path);
    expect(again.lastSeq('g_1')).toBe(5);
    expect(again.lastSeq('g_2')).toBe(0);
    expect(again.lastMailboxSeq()).toBe(3);
    expect(again.outbox()).toEqual([item('m1')]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'a')).mode & 0o777).toBe(0o700);
    // Written by rename: no temp file and no lock is left behind.
    expect(readdirSync(join(dir, 'a'))).toEqual(['store.json']);
  });

  it('ignores what a crash left half-written next to the file', () => {
    const path = join(dir, 'crash', 'store.json');
    new FileClientStore(path).setLastSeq('g', 7);
    writeFileSync(`${path}.999999.tmp`, '{"seqs":{"g":'); // a write cut short before its rename
    writeFileSync(`${path}.lock`, '999999999'); // held by a process that no longer exists
    const store = new FileClientStore(path);
    expect(store.lastSeq('g')).toBe(7);
    store.setLastSeq('g', 8);
    expect(new FileClientStore(path).lastSeq('g')).toBe(8);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('keeps the highest position whatever order positions arrive in', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1000 }), { maxLength: 30 }), (seqs) => {
        const path = join(dir, `p-${Math.random()}.json`);
        const store = new FileClientStore(path);
        for (const s of seqs) store.setLastSeq('g', s);
        expect(store.lastSeq('g')).toBe(Math.max(0, ...seqs));
        expect(new FileClientStore(path).lastSeq('g')).toBe(Math.max(0, ...seqs));
      }),
      { numRuns: 50 },
    );
  });

  it('two stores on one file (a listen and a send of one profile) never undo each other', () => {
    const op = fc.oneof(
      fc.record({
        who: fc.nat(1),
        kind: fc.constant('seq'),
        group: fc.constantFrom('g1', 'g2'),
        n: fc.nat(50),
      }),
      fc.record({ who: fc.nat(1), kind: fc.constant('put'), group: fc.constant(''), n: fc.nat(5) }),
      fc.record({ who: fc.nat(1), kind: fc.constant('remove'), group: fc.constant(''), n: fc.nat(5) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const path = join(dir, `two-${Math.random()}.json`);
        const stores = [new FileClientStore(path), new FileClientStore(path)];
        const seqs = new Map<string, number>();
        const outbox = new Set<string>();
        for (const o of ops) {
          const store = stores[o.who]!;
          if (o.kind === 'seq') {
            store.setLastSeq(o.group, o.n);
            seqs.set(o.group, Math.max(seqs.get(o.group) ?? 0, o.n));
          } else if (o.kind === 'put') {
            store.putOutbox(item(`m${o.n}`));
            outbox.add(`m${o.n}`);
          } else {
            store.removeOutbox(`m${o.n}`);
            outbox.delete(`m${o.n}`);
          }
        }
        const after = new FileClientStore(path);
        for (const g of ['g1', 'g2']) expect(after.lastSeq(g)).toBe(seqs.get(g) ?? 0);
        expect(new Set(after.outbox().map((i) => i.clientMsgId))).toEqual(outbox);
      }),
      { numRuns: 40 },
    );
  });

  it('two processes writing one file at once lose nothing', async () => {
    const path = join(dir, 'processes', 'store.json');
    const codes = await Promise.all([writerProcess(path, 'a', 150), writerProcess(path, 'b', 150)]);
    expect(codes).toEqual([0, 0]);
    const store = new FileClientStore(path);
    expect(store.lastSeq('g')).toBe(301);
    const left = store.outbox().map((i) => i.clientMsgId);
    const odd = Array.from({ length: 75 }, (_, k) => 2 * k + 1);
    expect(left.sort()).toEqual([...odd.map((i) => `a${i}`), ...odd.map((i) => `b${i}`)].sort());
  });

  it('belongs to one device: another account starts afresh, a new device of the account keeps positions', () => {
    const path = join(dir, 'bound', 'store.json');
    const legacy = new FileClientStore(path);
    legacy.setLastSeq('g', 9);
    legacy.putOutbox(item('m1'));
    // A file from before stores were bound is the signed-in device's own.
    expect(new FileClientStore(path).bindTo('u_alice', 'd_phone')).toBe(0);
    expect(new FileClientStore(path).outbox()).toHaveLength(1);
    const same = new FileClientStore(path);
    expect(same.bindTo('u_alice', 'd_phone')).toBe(0);
    expect(same.lastSeq('g')).toBe(9);
    same.setLastMailboxSeq(4);
    // Alice signs in again as a new device: what this machine showed stays shown; the old
    // device's outbox is not the new device's to re-send.
    const newDevice = new FileClientStore(path);
    expect(newDevice.bindTo('u_alice', 'd_laptop')).toBe(1);
    expect(newDevice.lastSeq('g')).toBe(9);
    expect(newDevice.lastMailboxSeq()).toBe(0);
    expect(newDevice.outbox()).toEqual([]);
    // Bob in the same folder must not have Alice's positions hide his entries.
    const bob = new FileClientStore(path);
    bob.putOutbox(item('m2'));
    expect(bob.bindTo('u_bob', 'd_bob')).toBe(1);
    expect(new FileClientStore(path).lastSeq('g')).toBe(0);
  });

  it('refuses a corrupted file loudly instead of starting over (which would show everything again)', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{not json');
    expect(() => new FileClientStore(path)).toThrow(/not readable JSON/);
  });
});
