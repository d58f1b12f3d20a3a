import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseUrlError, MigrationError, ensureDatabase, paths, runMigrations } from '../src/infra/migrationRunner.js';
import { applyMigrations, diagnoseMigrations, diffSchemaAgainstDatabase } from '../src/infra/migrations.js';
import { databaseUrlFor, dropDatabase, maintenanceUrl, query, uniqueDatabaseName } from './support/scratchDatabases.js';

// Production migrates with the runner (src/infra/migrationRunner.ts, plain
// pg); development tools use Prisma's schema engine (src/infra/migrations.ts).
// Both must record the same history in _prisma_migrations, so either accepts
// what the other applied.
//
// Runs on the PostgreSQL server of TEST_DATABASE_URL (as the rest of the
// suite does; default: local), in throw-away databases of its own.
const database = uniqueDatabaseName('migrations_test');
const databaseUrl = databaseUrlFor(database);
const server = new URL(databaseUrl);
// A second one for the data-migration test, which stops at an older migration.
const upgradeDatabase = `${database}_upgrade`;
const upgradeDatabaseUrl = databaseUrlFor(upgradeDatabase);
// Migrated by the schema engine, to compare with what the runner did.
const engineDatabase = `${database}_engine`;
const engineDatabaseUrl = databaseUrlFor(engineDatabase);

const migrationNames = readdirSync(paths.migrations, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort((a, b) => a.localeCompare(b));
const tableNames = [...readFileSync(paths.schema, 'utf8').matchAll(/@@map\("([^"]+)"\)/g)].map((match) => match[1]);

// Further throw-away databases, each made by a test for itself.
const scratchDatabases: string[] = [];
async function scratchDatabase(): Promise<string> {
  const name = `${database}_${scratchDatabases.length}`;
  scratchDatabases.push(name);
  await query(maintenanceUrl, `CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  return databaseUrlFor(name);
}

afterAll(async () => {
  for (const name of [database, upgradeDatabase, engineDatabase, ...scratchDatabases]) await dropDatabase(name);
});

const migrationSql = (suffix: string) => {
  const name = migrationNames.find((n) => n.endsWith(suffix));
  if (!name) throw new Error(`no migration *${suffix} in ${paths.migrations}`);
  return readFileSync(path.join(paths.migrations, name, 'migration.sql'), 'utf8');
};

type HistoryRow = { migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null; applied_steps_count: number };
const history = (url: string) =>
  query<HistoryRow>(url, 'SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name');

/** _prisma_migrations as Prisma records the whole migrations directory applied. */
const expectedHistory = () =>
  migrationNames.map((name) => ({
    migration_name: name,
    // Prisma's checksum: sha256 of the file, so `prisma migrate deploy` sees nothing edited.
    checksum: createHash('sha256').update(readFileSync(path.join(paths.migrations, name, 'migration.sql'))).digest('hex'),
    finished_at: expect.any(Date) as Date,
    rolled_back_at: null,
    applied_steps_count: 1,
  }));

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
    const { applied } = await runMigrations(databaseUrl, { log: (line) => progress.push(line) });
    expect(applied).toEqual(migrationNames);
    expect(progress).toEqual(migrationNames.map((name) => `Applying \`${name}\``));

    const tables = await query<{ table_name: string }>(
      databaseUrl,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    expect(tables.map((row) => row.table_name)).toEqual(expect.arrayContaining([...tableNames, '_prisma_migrations']));
    expect(await history(databaseUrl)).toEqual(expectedHistory());
  });

  it('applies nothing the second time', async () => {
    const progress: string[] = [];
    expect(await runMigrations(databaseUrl, { log: (line) => progress.push(line) })).toEqual({ applied: [] });
    expect(progress).toEqual([]);
  });

  it('leaves no drift between the migrations and schema.prisma', async () => {
    expect(await diffSchemaAgainstDatabase(databaseUrl)).toBe('');
  });

  it("satisfies Prisma's schema engine: nothing to apply, nothing edited, failed or drifted", async () => {
    expect(await applyMigrations(databaseUrl)).toEqual({ applied: [] });
    expect(await diagnoseMigrations(databaseUrl)).toEqual({
      history: { editedMigrationNames: [], failedMigrationNames: [], hasMigrationsTable: true, history: null },
      devAction: { tag: 'createMigration' },
    });
    expect(await history(databaseUrl)).toEqual(expectedHistory());
  });

  it('says plainly when the server cannot be reached', async () => {
    const unreachable = Object.assign(new URL(databaseUrl), { port: '1' }).href;
    const expected = new DatabaseUrlError(`cannot reach PostgreSQL at ${server.hostname}:1 (ECONNREFUSED)`);
    await expect(runMigrations(unreachable)).rejects.toThrow(expected);
    await expect(applyMigrations(unreachable)).rejects.toThrow(expected);
  });

  it('says plainly when the database does not exist, without echoing the URL', async () => {
    const missing = Object.assign(new URL(databaseUrl), { pathname: `/${database}_missing`, password: 'hunter2' }).href;
    const error = await runMigrations(missing).catch((e: unknown) => e);
    expect(error).toEqual(new DatabaseUrlError(`database "${database}_missing" does not exist on ${server.hostname}:${server.port || '5432'}`));
    expect(String(error)).not.toContain('hunter2');
  });
});

// The other way round: what the schema engine applied (as `prisma migrate
// deploy` would), the runner accepts as applied.
describe("the schema engine's migrations", { timeout: 60_000 }, () => {
  it('applies every migration and records it as the runner does', async () => {
    expect(await ensureDatabase(engineDatabaseUrl)).toBe(true);
    const progress: string[] = [];
    const { applied } = await applyMigrations(engineDatabaseUrl, (line) => progress.push(line));
    expect(applied).toEqual(migrationNames);
    expect(progress).toEqual(migrationNames.map((name) => `Applying \`${name}\``));
    expect(await history(engineDatabaseUrl)).toEqual(expectedHistory());
  });

  it('applies nothing the second time, and neither does the runner', async () => {
    expect(await applyMigrations(engineDatabaseUrl)).toEqual({ applied: [] });
    expect(await runMigrations(engineDatabaseUrl)).toEqual({ applied: [] });
  });

  it('leaves no drift between the migrations and schema.prisma', async () => {
    expect(await diffSchemaAgainstDatabase(engineDatabaseUrl)).toBe('');
  });

  it('made the same _prisma_migrations table as the runner', async () => {
    const columns = (url: string) =>
      query<{ column_name: string }>(
        url,
        `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default, ordinal_position
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
      );
    const engineColumns = await columns(engineDatabaseUrl);
    expect(engineColumns.map((column) => column.column_name)).toEqual([
      'id', 'checksum', 'finished_at', 'migration_name', 'logs', 'rolled_back_at', 'started_at', 'applied_steps_count',
    ]);
    expect(await columns(databaseUrl)).toEqual(engineColumns);
  });
});

// The runner's rules, on migrations directories made for each test.
describe('the migration runner', { timeout: 60_000 }, () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'partnerflow-migrations-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  let dirs = 0;
  /** A migrations directory holding these migrations (name → SQL). */
  async function makeMigrationsDir(migrations: Record<string, string>): Promise<string> {
    const dir = path.join(directory, String(dirs++));
    for (const [name, sql] of Object.entries(migrations)) await writeMigration(dir, name, sql);
    return dir;
  }
  async function writeMigration(dir: string, name: string, sql: string): Promise<void> {
    await mkdir(path.join(dir, name), { recursive: true });
    await writeFile(path.join(dir, name, 'migration.sql'), sql);
  }
  const tablesIn = async (url: string) =>
    (await query<{ table_name: string }>(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name")).map(
      (row) => row.table_name,
    );
  const refusal = (promise: Promise<unknown>) => promise.then(() => expect.fail('expected the runner to refuse'), (error: unknown) => error);

  it('applies in name order, once', async () => {
    const url = await scratchDatabase();
    const migrationsDir = await makeMigrationsDir({
      '2_second': 'ALTER TABLE first ADD COLUMN note text;',
      '1_first': 'CREATE TABLE first (id int);',
    });
    expect(await runMigrations(url, { migrationsDir })).toEqual({ applied: ['1_first', '2_second'] });
    expect(await runMigrations(url, { migrationsDir })).toEqual({ applied: [] });
    await writeMigration(migrationsDir, '3_third', 'CREATE TABLE third (id int);');
    expect(await runMigrations(url, { migrationsDir })).toEqual({ applied: ['3_third'] });
    expect(await runMigrations(url, { migrationsDir })).toEqual({ applied: [] });
    expect(await tablesIn(url)).toEqual(['_prisma_migrations', 'first', 'third']);
  });

  it('runs a migration as PostgreSQL reads it: ";" inside strings and function bodies', async () => {
    const url = await scratchDatabase();
    const migrationsDir = await makeMigrationsDir({
      '1_function': `CREATE TABLE notes (body text DEFAULT 'a;b');
CREATE FUNCTION shout(t text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN upper(t); -- one; two
END;
$$;
INSERT INTO notes (body) VALUES (shout('x;y'));`,
    });
    expect(await runMigrations(url, { migrationsDir })).toEqual({ applied: ['1_function'] });
    expect(await query(url, 'SELECT body FROM notes')).toEqual([{ body: 'X;Y' }]);
  });

  it('leaves nothing of a failing migration, records it as failed, and refuses until it is resolved', async () => {
    const url = await scratchDatabase();
    const migrationsDir = await makeMigrationsDir({
      '1_good': 'CREATE TABLE good (id int);',
      '2_bad': 'CREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\nINSERT INTO missing VALUES (1);',
      '3_later': 'CREATE TABLE later (id int);',
    });
    const progress: string[] = [];
    const error = await refusal(runMigrations(url, { migrationsDir, log: (line) => progress.push(line) }));
    expect(error).toBeInstanceOf(MigrationError);
    expect(error).toMatchObject({ migration: '2_bad', code: '42P01' });
    expect((error as Error).message).toMatch(/^migration 2_bad failed: relation "missing" does not exist \[42P01\]/);
    expect(progress).toEqual(['Applying `1_good`', 'Applying `2_bad`']);
    // 1_good stays applied; nothing of 2_bad is left; 3_later never ran.
    expect(await tablesIn(url)).toEqual(['_prisma_migrations', 'good']);
    const rows = await query<HistoryRow & { logs: string | null }>(
      url,
      'SELECT migration_name, finished_at, rolled_back_at, applied_steps_count, logs FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows).toEqual([
      { migration_name: '1_good', finished_at: expect.any(Date) as Date, rolled_back_at: null, applied_steps_count: 1, logs: null },
      {
        migration_name: '2_bad',
        finished_at: null,
        rolled_back_at: null,
        applied_steps_count: 0,
        logs: expect.stringContaining('relation "missing" does not exist') as string,
      },
    ]);

    // As `prisma migrate deploy` would (P3009): nothing more until someone resolves it.
    await writeMigration(migrationsDir, '2_bad', 'CREATE TABLE half (id int);');
    const refused = await refusal(runMigrations(url, { migrationsDir }));
    expect(refused).toBeInstanceOf(MigrationError);
    expect((refused as Error).message).toMatch(/migration 2_bad failed on .* \(relation "missing" does not exist\) and is recorded as failed/);
    expect(await tablesIn(url)).toEqual(['_prisma_migrations', 'good']);

    // Resolved as rolled back (`prisma migrate resolve --rolled-back`), the fixed migration applies.
    await query(url, `UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '2_bad'`);
    expect(await runMigrations(url, { migrationsDir })).toEqual({ applied: ['2_bad', '3_later'] });
    expect(await tablesIn(url)).toEqual(['_prisma_migrations', 'good', 'half', 'later']);
  });

  it('refuses when an applied migration was modified, and applies nothing', async () => {
    const url = await scratchDatabase();
    const migrationsDir = await makeMigrationsDir({ '1_first': 'CREATE TABLE first (id int);' });
    await runMigrations(url, { migrationsDir });
    await writeMigration(migrationsDir, '1_first', 'CREATE TABLE first (id bigint);');
    await writeMigration(migrationsDir, '2_second', 'CREATE TABLE second (id int);');
    const error = await refusal(runMigrations(url, { migrationsDir }));
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toContain('applied migration 1_first was modified after it was applied');
    expect(await tablesIn(url)).toEqual(['_prisma_migrations', 'first']);
  });

  it('accepts an applied migration whose line endings git changed, as Prisma does', async () => {
    const url = await scratchDatabase();
    const migrationsDir = await makeMigrationsDir({ '1_first': 'CREATE TABLE first (id int);\nCREATE TABLE other (id int);\n' });
    await runMigrations(url, { migrationsDir });
    await writeMigration(migrationsDir, '1_first', 'CREATE TABLE first (id int);\r\nCREATE TABLE other (id int);\r\n');
    expect(await runMigrations(url, { migrationsDir })).toEqual({ applied: [] });
  });

  it('refuses when an applied migration is not in the directory, and says which', async () => {
    const url = await scratchDatabase();
    const migrationsDir = await makeMigrationsDir({ '1_first': 'CREATE TABLE first (id int);', '2_second': 'CREATE TABLE second (id int);' });
    await runMigrations(url, { migrationsDir });
    await rename(path.join(migrationsDir, '2_second'), path.join(migrationsDir, '2_renamed'));
    const error = await refusal(runMigrations(url, { migrationsDir }));
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toContain('applied migration 2_second is not in the migrations directory');
    expect(await tablesIn(url)).toEqual(['_prisma_migrations', 'first', 'second']);
  });

  it('lets two concurrent runs apply each migration exactly once (Prisma\'s advisory lock)', async () => {
    const url = await scratchDatabase();
    const migrationsDir = await makeMigrationsDir({
      '1_first': 'CREATE TABLE first (id int); SELECT pg_sleep(0.3);',
      '2_second': 'CREATE TABLE second (id int);',
    });
    const waits: string[] = [];
    const runs = await Promise.all([
      runMigrations(url, { migrationsDir, log: (line) => waits.push(line) }),
      runMigrations(url, { migrationsDir, log: (line) => waits.push(line) }),
    ]);
    expect(runs.map((run) => run.applied).sort((a, b) => b.length - a.length)).toEqual([['1_first', '2_second'], []]);
    expect(waits).toContain('waiting for another migration run to finish (advisory lock 72707369)');
    expect((await query(url, 'SELECT migration_name FROM _prisma_migrations ORDER BY migration_name')).length).toBe(2);
  });
});

// Until tenant_directory, the first partner to name a domain fixed its "admin"
// address. The migration must not keep any such tenant or admin: the address
// becomes that relationship's unverified contact, and the change is audited.
describe('the tenant_directory data migration', { timeout: 60_000 }, () => {
  it('turns a partner-set admin into an unverified contact and removes the tenant', async () => {
    expect(await ensureDatabase(upgradeDatabaseUrl)).toBe(true);
    const client = new pg.Client({ connectionString: upgradeDatabaseUrl });
    await client.connect();
    try {
      // The database as the init migration left it, with data a partner's offer wrote.
      await client.query(migrationSql('_init'));
      const partnerId = randomUUID();
      const relationshipId = randomUUID();
      const invitationId = randomUUID();
      const domain = 'contoso.test';
      const adminEmail = 'Someone@Contoso.test';
      const name = 'Contoso Ltd';
      await client.query(
        `INSERT INTO partners (id, name, contact_email, webhook_secret, api_key_hash, api_key_prefix)
         VALUES ($1, 'Fabrikam', 'ops@fabrikam.test', 'secret', 'hash-of-key', 'pf_abc')`,
        [partnerId],
      );
      await client.query(`INSERT INTO tenants (domain, name, admin_email, updated_at) VALUES ($1, $2, $3, now())`, [domain, name, adminEmail]);
      await client.query(
        `INSERT INTO relationships (id, workflow_id, partner_id, tenant_domain, status, roles, policy, live_key, updated_at)
         VALUES ($1, $2, $3, $4, 'active', ARRAY['helpdeskAdmin'], '{}'::jsonb, $5, now())`,
        [relationshipId, `relationship-${relationshipId}`, partnerId, domain, `${partnerId}|${domain}|helpdeskAdmin`],
      );
      await client.query(
        `INSERT INTO invitations (id, relationship_id, idempotency_key, token_hash, expires_at)
         VALUES ($1, $2, $3, 'hash-of-token', now() + interval '14 days')`,
        [invitationId, relationshipId, `relationship-${relationshipId}-invitation-1`],
      );

      await client.query(migrationSql('_tenant_directory'));

      expect((await client.query('SELECT * FROM tenants')).rows).toEqual([]);
      expect((await client.query('SELECT * FROM tenant_admins')).rows).toEqual([]);
      const relationships = await client.query<{ id: string; status: string; contact_email: string; contact_name: string | null }>(
        'SELECT id, status, contact_email, contact_name FROM relationships',
      );
      // The relationship itself is untouched: still active, now with a contact that authorizes nothing.
      expect(relationships.rows).toEqual([{ id: relationshipId, status: 'active', contact_email: adminEmail, contact_name: name }]);
      const invitations = await client.query<{ id: string; recipient_email: string; forwarded_from_id: string | null }>(
        'SELECT id, recipient_email, forwarded_from_id FROM invitations',
      );
      expect(invitations.rows).toEqual([{ id: invitationId, recipient_email: adminEmail, forwarded_from_id: null }]);
      const audit = await client.query<{ tenant_domain: string | null; relationship_id: string | null; actor_type: string; data: unknown }>(
        `SELECT tenant_domain, relationship_id, actor_type, data FROM audit_events WHERE action = 'tenant.adminDemotedToContact'`,
      );
      expect(audit.rows).toEqual([{ tenant_domain: domain, relationship_id: null, actor_type: 'system', data: { email: adminEmail, name } }]);
    } finally {
      await client.end();
    }
  });
});

// Until api_keys_and_customer_sessions, a partner had exactly one key, on its
// own row. The migration moves every key into partner_api_keys unchanged, so
// partners keep working after the upgrade.
describe('the api_keys_and_customer_sessions data migration', { timeout: 60_000 }, () => {
  const keysDatabase = `${database}_keys`;
  const keysDatabaseUrl = databaseUrlFor(keysDatabase);
  afterAll(async () => {
    await dropDatabase(keysDatabase);
  });

  it('carries every existing API key over: same hash and prefix, no expiry, not revoked', async () => {
    expect(await ensureDatabase(keysDatabaseUrl)).toBe(true);
    const client = new pg.Client({ connectionString: keysDatabaseUrl });
    await client.connect();
    try {
      await client.query(migrationSql('_init'));
      await client.query(migrationSql('_tenant_directory'));
      const partnerId = randomUUID();
      const keyHash = createHash('sha256').update('pf_the-old-key').digest('hex');
      await client.query(
        `INSERT INTO partners (id, name, contact_email, webhook_secret, api_key_hash, api_key_prefix, created_at)
         VALUES ($1, 'Fabrikam', 'ops@fabrikam.test', 'secret', $2, 'pf_the-old', now() - interval '30 days')`,
        [partnerId, keyHash],
      );

      await client.query(migrationSql('_api_keys_and_customer_sessions'));

      const keys = await client.query<{ partner_id: string; key_hash: string; prefix: string; same_created_at: boolean; expires_at: Date | null; revoked_at: Date | null }>(
        `SELECT k.partner_id, k.key_hash, k.prefix, k.created_at = p.created_at AS same_created_at, k.expires_at, k.revoked_at
         FROM partner_api_keys k JOIN partners p ON p.id = k.partner_id`,
      );
      expect(keys.rows).toEqual([{ partner_id: partnerId, key_hash: keyHash, prefix: 'pf_the-old', same_created_at: true, expires_at: null, revoked_at: null }]);
      const columns = await client.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_name = 'partners'`);
      expect(columns.rows.map((c) => c.column_name)).not.toContain('api_key_hash');
    } finally {
      await client.end();
    }
  });
});
