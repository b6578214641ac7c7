import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { LogWitness } from './log-witness.ts';

const dir = mkdtempSync(join(tmpdir(), 'courier-witness-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the log witness file', () => {
  it('reads any content as a witness or refuses it with one readable error', () => {
    const path = join(dir, 'any.json');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.string(),
        ),
        (text) => {
          writeFileSync(path, text);
          const witness = new LogWitness(path, '/db');
          try {
            const known = witness.read('id');
            if (known !== undefined) expect(typeof known.root).toBe('string');
            witness.atLocation();
          } catch (error) {
            expect((error as Error).message).toBe(`${path} is not a transparency witness file`);
          }
        },
      ),
    );
  });

  it('keeps one entry per log, only growing, private', () => {
    const path = join(dir, 'logs', 'witness.json');
    const here = new LogWitness(path, '/db/a');
    here.record('log-a', { origin: 'o', size: 3, root: 'r3' });
    here.record('log-a', { origin: 'o', size: 2, root: 'r2' });
    new LogWitness(path, '/db/b').record('log-b', { origin: 'o', size: 1, root: 'b1' });
    expect(here.read('log-a')).toEqual({ origin: 'o', size: 3, root: 'r3', location: '/db/a' });
    expect(here.read('log-b')?.root).toBe('b1');
    expect(here.read('log-c')).toBeUndefined();
    expect(here.atLocation()?.size).toBe(3);
    expect(new LogWitness(path, '/db/c').atLocation()).toBeUndefined();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
