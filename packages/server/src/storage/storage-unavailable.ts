import { CourierError } from '@courier/protocol';

/** Node socket errors: the database host cannot be reached or dropped the connection. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs that say "not now" rather than "wrong": class 08 (connection exception),
 * 53 (insufficient resources: disk full, out of memory, too many connections), 57P01–57P03
 * (shutting down, crashed, starting up) and 25006 (read-only transaction: a standby after failover).
 */
const PG_STATES = /^(08...|53...|57P0[123]|25006)$/;

/** SQLite result codes for a locked database (busy_timeout ran out), a full disk or an I/O failure. */
const SQLITE_CODES = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|READONLY)(_|$)/;

/** node-postgres messages for a connection that ended under it (no code is set on these). */
const PG_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

/**
 * Whether an error thrown by a storage call means the database cannot be reached or cannot take
 * writes right now (so the caller may try again), as opposed to a bug or bad data. Looks through
 * `cause` chains and AggregateErrors (a failed connect to several addresses).
 */
export function isStorageUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 8 || typeof error !== 'object' || error === null) return false;
  const { code, message, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || PG_STATES.test(code) || SQLITE_CODES.test(code)) return true;
  }
  if (typeof message === 'string' && PG_MESSAGES.some((m) => message.startsWith(m))) return true;
  if (Array.isArray(errors) && errors.some((e) => isStorageUnavailable(e, depth + 1))) return true;
  return isStorageUnavailable(cause, depth + 1);
}

/**
 * The catalog error for a failure that escaped a handler: itself when it is typed already,
 * STORAGE_UNAVAILABLE (503, retryable) when the database is away, INTERNAL otherwise.
 */
export function typedFailure(error: unknown): CourierError {
  if (error instanceof CourierError)
    return error.code === 'INTERNAL' && isStorageUnavailable(error.cause)
      ? new CourierError('STORAGE_UNAVAILABLE', { cause: error.cause })
      : error;
  if (isStorageUnavailable(error)) return new CourierError('STORAGE_UNAVAILABLE', { cause: error });
  return new CourierError('INTERNAL', { cause: error });
}
