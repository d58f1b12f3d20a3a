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
// A second one for the data-migration test, which stops at an older migration.
const upgradeDatabase = `${database}_upgrade`;
const upgradeDatabaseUrl = Object.assign(new URL(server.href), { pathname: `/${upgradeDatabase}` }).href;

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
  await query(maintenanceUrl, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(upgradeDatabase)} WITH (FORCE)`);
});

const migrationSql = (suffix: string) => {
  const name = migrationNames.find((n) => n.endsWith(suffix));
  if (!name) throw new Error(`no migration *${suffix} in ${paths.migrations}`);
  return readFileSync(path.join(paths.migrations, name, 'migration.sql'), 'utf8');
};

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
  const keysDatabaseUrl = Object.assign(new URL(server.href), { pathname: `/${keysDatabase}` }).href;
  afterAll(async () => {
    await query(maintenanceUrl, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(keysDatabase)} WITH (FORCE)`);
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
