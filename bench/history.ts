/**
 * `npm run bench -- history [--messages N]`: how long this device takes to open a chat (its newest
 * page of 50; its unread count with 5 unread) when the chat holds 10 messages and when it holds N
 * (default 100,000), in each device store: memory, the CLI's SQLite file, and IndexedDB (fake-indexeddb in
 * Node; the browser's own IndexedDB is measured by the web bench). The two sizes should cost the same:
 * a page reads only itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'fake-indexeddb/auto';
import { IndexedDbMlsStore, MemoryMlsStore, type MlsStore, type StoredMessage } from '@courier/sdk';
import { IDBFactory } from 'fake-indexeddb';
import { DeviceStore } from '../packages/cli/src/device-store.ts';
import { type Figure, progress, round } from './figure.ts';

export const HISTORY_DEFAULTS = { messages: 100_000, page: 50, samples: 30 };

const message = (groupId: string, n: number): StoredMessage => ({
  groupId,
  seq: n,
  clientMsgId: `m-${n}`,
  senderAccountId: 'acc-b',
  senderDeviceId: 'dev-b',
  sentAtMs: n,
  text: `message number ${n} of a long chat`,
  outgoing: false,
});

async function fill(store: MlsStore, groupId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 5_000)
    await store.addMessages(
      Array.from({ length: Math.min(5_000, count - i) }, (_, k) => message(groupId, i + k + 1)),
    );
}

/** Median time of a step, over samples. */
async function medianMs(samples: number, step: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await step();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export async function runHistoryBench(messages: number): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'courier-bench-history-'));
  const kinds: [string, () => Promise<{ store: MlsStore; close(): void }>][] = [
    ['memory', async () => ({ store: new MemoryMlsStore(), close: () => {} })],
    [
      'sqlite',
      async () => {
        const store = new DeviceStore(join(dir, `device-${Math.random().toString(36).slice(2)}.db`));
        return { store, close: () => store.close() };
      },
    ],
    [
      'indexeddb',
      async () => {
        const store = await IndexedDbMlsStore.open('bench', new IDBFactory());
        return { store, close: () => store.close() };
      },
    ],
  ];
  const figures: Figure[] = [];
  try {
    for (const [kind, open] of kinds) {
      const { store, close } = await open();
      try {
        progress(`history: ${kind}, filling a chat of 10 and one of ${messages}`);
        await fill(store, 'small', 10);
        await fill(store, 'big', messages);
        for (const [groupId, count] of [
          ['small', 10],
          ['big', messages],
        ] as const) {
          const page = await store.history(groupId, { limit: HISTORY_DEFAULTS.page });
          if (page.messages.length !== Math.min(count, HISTORY_DEFAULTS.page))
            throw new Error('a short page');
          figures.push({
            bench: 'history',
            figure: 'newest_page_ms',
            value: round(
              await medianMs(HISTORY_DEFAULTS.samples, () =>
                store.history(groupId, { limit: HISTORY_DEFAULTS.page }),
              ),
              2,
            ),
            unit: 'ms',
            params: { store: kind, messages: count, page: HISTORY_DEFAULTS.page },
            storage: kind,
          });
          // A chat as people have them: read but for the last few. Counting costs what is unread.
          await store.advanceChatState(groupId, { myReadUpTo: count - 5 });
          if ((await store.unreadCount(groupId)) !== 5) throw new Error('a wrong unread count');
          figures.push({
            bench: 'history',
            figure: 'unread_count_ms',
            value: round(await medianMs(HISTORY_DEFAULTS.samples, () => store.unreadCount(groupId)), 2),
            unit: 'ms',
            params: { store: kind, messages: count, unread: 5 },
            storage: kind,
          });
        }
      } finally {
        close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
