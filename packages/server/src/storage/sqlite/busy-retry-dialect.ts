import { CourierError } from '@courier/protocol';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryCompiler,
  type QueryResult,
  SqliteDialect,
  type SqliteDialectConfig,
  type TransactionSettings,
} from 'kysely';

/** How long a statement may wait, off the event loop, for another process's lock. */
export interface BusyRetry {
  /** Total time slept between attempts before SERVER_STORAGE_BUSY. */
  waitMs: number;
  /** Pauses without blocking the event loop (tests may pass their own). */
  sleep?: (ms: number) => Promise<void>;
}

type Compile = QueryCompiler['compileQuery'];

const FIRST_DELAY_MS = 2;
const MAX_DELAY_MS = 50;

/**
 * better-sqlite3 is synchronous: with a long busy_timeout, a statement that meets another
 * process's write lock stops the whole event loop (every socket) until the lock goes. This dialect
 * keeps SQLite's own wait to a few milliseconds and retries a busy statement after yielding to the
 * event loop, with growing pauses, for at most `waitMs`; then the caller gets SERVER_STORAGE_BUSY.
 * Transactions begin IMMEDIATE, so a busy lock is met at BEGIN (safe to retry), never half-way
 * through a transaction.
 */
export class BusyRetryingSqliteDialect extends SqliteDialect {
  constructor(
    config: SqliteDialectConfig,
    private readonly retry: BusyRetry,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    return new BusyRetryingDriver(super.createDriver(), this.retry);
  }
}

class BusyRetryingDriver implements Driver {
  private readonly wrapped = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(
    private readonly inner: Driver,
    private readonly retry: BusyRetry,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection();
    let wrapper = this.wrapped.get(connection);
    if (!wrapper) {
      wrapper = new BusyRetryingConnection(connection, this.retry);
      this.wrapped.set(connection, wrapper);
    }
    return wrapper;
  }

  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: Compile): Promise<void> {
    await this.inner.savepoint?.(connection, name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: Compile): Promise<void> {
    await this.inner.rollbackToSavepoint?.(connection, name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: Compile): Promise<void> {
    await this.inner.releaseSavepoint?.(connection, name, compile);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(connection);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

class BusyRetryingConnection implements DatabaseConnection {
  constructor(
    private readonly inner: DatabaseConnection,
    private readonly retry: BusyRetry,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const sleep = this.retry.sleep ?? defaultSleep;
    let slept = 0;
    let delay = FIRST_DELAY_MS;
    for (;;) {
      try {
        return await this.inner.executeQuery<R>(query);
      } catch (error) {
        if (!isBusy(error)) throw error;
        if (slept >= this.retry.waitMs) {
          throw new CourierError('SERVER_STORAGE_BUSY', { cause: error });
        }
        const pause = Math.min(delay, this.retry.waitMs - slept);
        await sleep(pause);
        slept += pause;
        delay = Math.min(delay * 2, MAX_DELAY_MS);
      }
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

/** SQLITE_BUSY and its extended codes: another connection holds a lock this statement needs. */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
