import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, type StorageKind, startTestServer, type TestServer } from './support/harness.ts';

describe.each<StorageKind>(['sqlite', 'postgres'])('sequence allocation on %s', (storage) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ storage });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('hands out gap-free, never repeated numbers to concurrent batches over overlapping groups', async () => {
    const owner = await server.register(nextPhone());
    const groups = await Promise.all([1, 2, 3, 4].map((i) => owner.http.createGroup(`g${i}`, [])));
    const ids = groups.map((g) => g.groupId);
    const batches = Array.from({ length: 20 }, (_, b) => {
      // Each batch asks for a different mix, listed in a different order.
      const counts = new Map<string, number>();
      for (const [i, id] of [...ids].reverse().entries())
        if ((b + i) % 3 !== 0) counts.set(id, 1 + ((b * 7 + i) % 5));
      return counts;
    });
    const results = await Promise.all(
      batches.map((counts) => server.app.storage.transaction((tx) => tx.groups.allocateSeqs(counts))),
    );
    for (const id of ids) {
      const taken: number[] = [];
      results.forEach((lasts, b) => {
        const n = batches[b]!.get(id);
        if (n === undefined) return;
        const last = lasts.get(id)!;
        for (let s = last - n + 1; s <= last; s++) taken.push(s);
      });
      taken.sort((x, y) => x - y);
      // Seq 1 is each group's "created" roster entry.
      expect(taken).toEqual(Array.from({ length: taken.length }, (_, i) => i + 2));
    }
  });
});
