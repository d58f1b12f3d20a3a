import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DatabaseUrlError,
  applyMigrations,
  diffSchemaAgainstDatabase,
  ensureDatabase,
  paths,
} from '../src/infra/migrations.js';

// Runs on the PostgreSQL server of TEST_DATABASE_URL (as the rest of the
// suite does; default: local), in a throw-away database of its own.
const server = new URL(process.env.TEST_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/test');
const database = `partnerflow_migrations_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const databaseUrl = Object.assign(new URL(server.href), { pathname: `/${database}` }).href;
const maintenanceUrl = Object.assign(new URL(server.href), { pathname: '/postgres' }).href;

const migrationNames = readdirSync(paths.migrations, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort((a, b) => a.localeCompare(b));
const tableNames = [...readFileSync(paths.schema, 'utf8').matchAll(/@@map\("([^"]+)"\)/g)].map((match) => match[1]);

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  await query(maintenanceUrl, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
});

describe('migrations', { timeout: 60_000 }, () => {
  it('has migrations to test', () => {
    expect(migrationNames.length).toBeGreaterThan(0);
    expect(tableNames.length).toBeGreaterThan(0);
  });

  it('creates the database once', async () => {
    expect(await ensureDatabase(databaseUrl)).toBe(true);
    expect(await ensureDatabase(databaseUrl)).toBe(false);
  });

  it('applies every migration and records it as Prisma does', async () => {
    const progress: string[] = [];
    const { applied } = await applyMigrations(databaseUrl, (line) => progress.push(line));
    expect(applied).toEqual(migrationNames);
    expect(progress).toEqual(migrationNames.map((name) => `Applying \`${name}\``));

    const tables = await query<{ table_name: string }>(
      databaseUrl,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    expect(tables.map((row) => row.table_name)).toEqual(expect.arrayContaining([...tableNames, '_prisma_migrations']));

    const rows = await query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null; applied_steps_count: number }>(
      databaseUrl,
      'SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows).toEqual(
      migrationNames.map((name) => ({
        migration_name: name,
        // Prisma's checksum: sha256 of the file, so `prisma migrate deploy` sees nothing edited.
        checksum: createHash('sha256').update(readFileSync(path.join(paths.migrations, name, 'migration.sql'))).digest('hex'),
        finished_at: expect.any(Date) as Date,
        rolled_back_at: null,
        applied_steps_count: 1,
      })),
    );
  });

  it('applies nothing the second time', async () => {
    expect(await applyMigrations(databaseUrl)).toEqual({ applied: [] });
  });

  it('leaves no drift between the migrations and schema.prisma', async () => {
    expect(await diffSchemaAgainstDatabase(databaseUrl)).toBe('');
  });

  it('says plainly when the server cannot be reached', async () => {
    const unreachable = Object.assign(new URL(databaseUrl), { port: '1' }).href;
    await expect(applyMigrations(unreachable)).rejects.toThrow(
      new DatabaseUrlError(`cannot reach PostgreSQL at ${server.hostname}:1 (ECONNREFUSED)`),
    );
  });
});
