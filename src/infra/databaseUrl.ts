import pg from 'pg';

// DATABASE_URL parsing and the first connection, shared by the migration
// runner (production) and the schema-engine tooling (development). Messages
// name the server as host:port and never echo the URL: it may carry a password.

/** A DATABASE_URL that is malformed or names a server we cannot log in to. */
export class DatabaseUrlError extends Error {
  override name = 'DatabaseUrlError';
}

export interface DatabaseTarget {
  database: string;
  /** host:port, for messages. */
  server: string;
}

export function parseDatabaseUrl(databaseUrl: string): DatabaseTarget {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new DatabaseUrlError('must be a URL like postgresql://user@host:5432/db');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new DatabaseUrlError(`must be a postgresql:// URL (got ${url.protocol}//)`);
  }
  const database = decodeURIComponent(url.pathname.slice(1));
  if (!database) throw new DatabaseUrlError('names no database (postgresql://user@host:5432/<database>)');
  const host = url.searchParams.get('host') ?? url.hostname;
  return { database, server: `${host || 'localhost'}:${url.port || '5432'}` };
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/**
 * Runs `run` on a fresh connection and closes it. Connection failures become
 * DatabaseUrlErrors, except "database does not exist" (3D000), which is
 * rethrown as it is: callers decide what that means.
 */
export async function withClient<T>(connectionString: string, target: DatabaseTarget, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (error) {
    // Swallow the follow-up 'error' event a half-open socket may emit.
    client.on('error', () => {});
    const code = errorCode(error);
    const reason = messageOf(error);
    if (code === '3D000') throw error; // database does not exist: callers decide
    if (code !== undefined && /^E[A-Z]+$/.test(code)) {
      throw new DatabaseUrlError(`cannot reach PostgreSQL at ${target.server} (${code})`, { cause: error });
    }
    if (/timeout/i.test(reason)) {
      throw new DatabaseUrlError(`cannot reach PostgreSQL at ${target.server} (no answer in 10 s)`, { cause: error });
    }
    throw new DatabaseUrlError(`cannot connect to PostgreSQL at ${target.server}: ${reason}`, { cause: error });
  }
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Like withClient, but a missing database is a DatabaseUrlError too. */
export async function withExistingDatabase<T>(databaseUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const target = parseDatabaseUrl(databaseUrl);
  let connected = false;
  try {
    return await withClient(databaseUrl, target, (client) => {
      connected = true;
      return run(client);
    });
  } catch (error) {
    if (connected || errorCode(error) !== '3D000') throw error;
    throw new DatabaseUrlError(`database "${target.database}" does not exist on ${target.server}`, { cause: error });
  }
}

/**
 * Creates the database named in the URL unless it exists. Connects to the
 * database itself first, so a role that may not open `postgres` still works
 * once the database is there. Returns whether it created the database.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const target = parseDatabaseUrl(databaseUrl);
  try {
    await withClient(databaseUrl, target, async () => {});
    return false;
  } catch (error) {
    if (errorCode(error) !== '3D000') throw error;
  }
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  return withClient(maintenance.href, target, async (client) => {
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(target.database)}`);
      return true;
    } catch (error) {
      if (errorCode(error) === '42P04') return false; // created meanwhile by a concurrent deploy
      const reason = messageOf(error);
      throw new DatabaseUrlError(`cannot create database "${target.database}" on ${target.server}: ${reason}`, { cause: error });
    }
  });
}
