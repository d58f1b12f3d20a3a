import { randomUUID } from 'node:crypto';
import pg from 'pg';

// Throw-away databases for the tests that migrate one themselves, on the
// PostgreSQL server of TEST_DATABASE_URL (as the rest of the suite; default: local).

const server = new URL(process.env.TEST_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/test');

/** The server's URL naming another database. */
export const databaseUrlFor = (database: string): string => Object.assign(new URL(server.href), { pathname: `/${database}` }).href;

/** Where CREATE and DROP DATABASE run. */
export const maintenanceUrl = databaseUrlFor('postgres');

/** A database name no other test run uses. */
export const uniqueDatabaseName = (label: string): string => `partnerflow_${label}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

/** Runs one statement on its own connection and returns the rows. */
export async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

export async function dropDatabase(database: string): Promise<void> {
  await query(maintenanceUrl, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
}
