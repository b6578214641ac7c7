import type { Config } from '../config.ts';
import type { Storage } from './ports.ts';

/** The storage part of the config; a SQLite wait left out takes the config's default. */
export type StorageConfig =
  | Exclude<Config['storage'], { kind: 'sqlite' }>
  | { kind: 'sqlite'; path: string; busyWaitMs?: number | undefined };

/** Opens the configured adapter; each driver is loaded only when configured. */
export async function openStorage(config: StorageConfig): Promise<Storage> {
  switch (config.kind) {
    case 'sqlite': {
      const { openSqliteStorage } = await import('./sqlite/open-storage.ts');
      return openSqliteStorage({
        path: config.path,
        ...(config.busyWaitMs === undefined ? {} : { busyWaitMs: config.busyWaitMs }),
      });
    }
    case 'postgres': {
      const { openPostgresStorage } = await import('./postgres/open-storage.ts');
      return openPostgresStorage({ url: config.url, poolSize: config.poolSize });
    }
  }
}
