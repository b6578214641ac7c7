import { CourierError } from '@courier/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isStorageUnavailable, typedFailure } from './storage-unavailable.ts';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isStorageUnavailable', () => {
  it.each([
    ['a refused connect (database stopped)', withCode('ECONNREFUSED')],
    ['a reset connection', withCode('ECONNRESET')],
    [
      'PostgreSQL shutting down (57P01)',
      withCode('57P01', 'terminating connection due to administrator command'),
    ],
    ['PostgreSQL starting up (57P03)', withCode('57P03', 'the database system is starting up')],
    ['a connection exception (08006)', withCode('08006')],
    ['PostgreSQL disk full (53100)', withCode('53100')],
    ['too many connections (53300)', withCode('53300')],
    ['a read-only standby after failover (25006)', withCode('25006')],
    ['a locked SQLite database', withCode('SQLITE_BUSY')],
    ['a SQLite disk full', withCode('SQLITE_FULL')],
    ['a SQLite I/O error', withCode('SQLITE_IOERR_WRITE')],
    ['node-postgres: connection ended', new Error('Connection terminated unexpectedly')],
    ['a refused connect to several addresses', new AggregateError([withCode('ECONNREFUSED')], 'all failed')],
    ['a wrapped refused connect', new Error('query failed', { cause: withCode('ECONNREFUSED') })],
  ])('recognises %s', (_, error) => {
    expect(isStorageUnavailable(error)).toBe(true);
    expect(typedFailure(error).code).toBe('STORAGE_UNAVAILABLE');
    expect(typedFailure(error).status).toBe(503);
  });

  it.each([
    ['a unique violation (23505)', withCode('23505')],
    ['a syntax error (42601)', withCode('42601')],
    ['a SQLite constraint failure', withCode('SQLITE_CONSTRAINT_UNIQUE')],
    ['a plain bug', new TypeError('x is undefined')],
  ])('leaves %s an internal error', (_, error) => {
    expect(isStorageUnavailable(error)).toBe(false);
    expect(typedFailure(error).code).toBe('INTERNAL');
  });

  it('keeps a typed error, and unwraps an INTERNAL whose cause is an outage', () => {
    const typed = new CourierError('GROUP_NOT_MEMBER');
    expect(typedFailure(typed)).toBe(typed);
    expect(typedFailure(new CourierError('INTERNAL', { cause: withCode('ECONNREFUSED') })).code).toBe(
      'STORAGE_UNAVAILABLE',
    );
  });

  it('never throws and always yields a catalog error, whatever is thrown (cycles included)', () => {
    fc.assert(
      fc.property(
        fc.anything({ withObjectString: true, withNullPrototype: true }),
        fc.boolean(),
        (value, cyclic) => {
          const thrown =
            cyclic && typeof value === 'object' && value !== null
              ? Object.assign(new Error('loop'), { cause: value })
              : value;
          if (cyclic && thrown instanceof Error) (thrown as { cause?: unknown }).cause = thrown;
          expect(typeof isStorageUnavailable(thrown)).toBe('boolean');
          expect(typedFailure(thrown)).toBeInstanceOf(CourierError);
        },
      ),
    );
  });
});
