import type { Config } from '../config.ts';
import type { Storage } from './ports.ts';

/** Opens the configured adapter; each driver is loaded only when configured. */
export async function openStorage(config: Config['storage']): Promise<Storage> {
  switch (config.kind) {
    case 'sqlite': {
      const { openSqliteStorage } = await import('./sqlite/open-storage.ts');
      return openSqliteStorage({ path: config.path });
    }
    case 'postgres': {
      const { openPostgresStorage } = await import('./postgres/open-storage.ts');
      return openPostgresStorage({ url: config.url, poolSize: config.poolSize });
    }
  }
}
