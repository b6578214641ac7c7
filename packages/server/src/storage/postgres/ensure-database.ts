import { CourierError } from '@courier/protocol';
import pg from 'pg';

/** PostgreSQL error codes met when a database is missing or cannot be made. */
const INVALID_CATALOG_NAME = '3D000';
const DUPLICATE_DATABASE = '42P04';
const INSUFFICIENT_PRIVILEGE = '42501';

/**
 * Makes sure the configured database exists before the pool opens: a fresh machine following the
 * scaled shape gets it created when the role may (CREATEDB), else one line that says what to do,
 * never a driver stack trace. An unreachable server is one line too.
 */
export async function ensureDatabase(url: string): Promise<void> {
  const where = describe(url);
  const probe = new pg.Client({ connectionString: url });
  try {
    await probe.connect();
    return;
  } catch (error) {
    if (codeOf(error) !== INVALID_CATALOG_NAME) throw unreachable(error, where);
  } finally {
    await probe.end().catch(() => undefined);
  }
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  // The maintenance database every PostgreSQL has; the same role and host.
  target.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: target.toString() });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } catch (error) {
    // Another node created it first: fine.
    if (codeOf(error) === DUPLICATE_DATABASE) return;
    const role = decodeURIComponent(target.username) || 'this role';
    throw new CourierError('SERVER_DATABASE_MISSING', {
      message:
        codeOf(error) === INSUFFICIENT_PRIVILEGE
          ? `database "${name}" does not exist at ${where.server} and ${role} may not create it: create it (createdb ${name}) or grant CREATEDB`
          : `database "${name}" does not exist at ${where.server} and could not be created: ${(error as Error).message}`,
      cause: error,
    });
  } finally {
    await admin.end().catch(() => undefined);
  }
}

function unreachable(error: unknown, where: { server: string; database: string }): CourierError {
  return new CourierError('SERVER_UNAVAILABLE', {
    message: `PostgreSQL at ${where.server} (database "${where.database}") does not answer: ${(error as Error).message}`,
    cause: error,
  });
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Host, port and database of a URL, without its credentials. */
function describe(url: string): { server: string; database: string } {
  try {
    const parsed = new URL(url);
    return { server: parsed.host || 'localhost', database: decodeURIComponent(parsed.pathname.slice(1)) };
  } catch {
    return { server: 'the configured server', database: '?' };
  }
}
