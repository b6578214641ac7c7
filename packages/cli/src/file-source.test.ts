import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CourierError } from '@courier/protocol';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { fileSource } from './file-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'courier-file-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fileSource', () => {
  it('reads any range into a buffer the same as it reads it fresh', async () => {
    const bytes = new Uint8Array(200_000).map((_, i) => (i * 31 + 7) % 251);
    const path = join(dir, 'a.bin');
    writeFileSync(path, bytes);
    const source = await fileSource(path);
    expect(source.size).toBe(bytes.length);
    await fc.assert(
      fc.asyncProperty(fc.nat(bytes.length), fc.nat(bytes.length), async (x, y) => {
        const [start, end] = x <= y ? [x, y] : [y, x];
        const target = new Uint8Array(end - start);
        await source.readInto?.(start, target);
        expect(Buffer.from(target).equals(Buffer.from(bytes.subarray(start, end)))).toBe(true);
        expect(Buffer.from(await source.read(start, end - start)).equals(Buffer.from(target))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('fails with a typed error when the file became shorter than the upload needs', async () => {
    const path = join(dir, 'b.bin');
    writeFileSync(path, new Uint8Array(100_000));
    const source = await fileSource(path);
    truncateSync(path, 50_000);
    await expect(source.readInto?.(40_000, new Uint8Array(20_000))).rejects.toSatisfy(
      (e) => e instanceof CourierError && e.code === 'MEDIA_LENGTH_INVALID',
    );
  });
});
