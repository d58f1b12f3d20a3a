import pg from 'pg';
import { roleIds } from '../../src/contract/roles.js';
import { hashToken, newToken } from '../../src/infra/tokens.js';

// The data the access check reads, written straight into a throw-away database
// with one INSERT ... SELECT generate_series per table (a million tenants in
// seconds, not an hour of row-by-row inserts from Node).
//
// What the check needs and the foreign keys require, nothing else:
//   partners          P rows (partner_api_keys and relationships point at them)
//   partner_api_keys  one live key per partner, stored as its sha256 hash like
//                     src/partners/partnerKeys.ts; the raw keys go to the load generator
//   relationships     one active relationship per tenant (role_grants point at it)
//   role_grants       two roles per tenant: 2N rows
// The tenants table is not seeded: no foreign key leads to it from these tables
// and the check does not read it.
//
// Tenant i is t<i>.bench.example, served by partner i % P, with the roles
// ACCESS_ROLES[i % 8] and ACCESS_ROLES[(i + 3) % 8]; accessLoad.ts derives its
// expected answers from the same rule.

/** A partner API key as src/partners/partnerKeys.ts makes one: `pf_` and 32 random bytes; stored as its sha256 hash and its first 10 characters. */
function newPartnerKey() {
  const apiKey = `pf_${newToken()}`;
  return { apiKey, keyHash: hashToken(apiKey), prefix: apiKey.slice(0, 10) };
}

export const ACCESS_ROLES: readonly string[] = roleIds;

export const tenantDomainOf = (i: number) => `t${i}.bench.example`;
export const partnerOf = (tenant: number, partners: number) => tenant % partners;
export const grantedRolesOf = (tenant: number): [string, string] => [roleAt(tenant), roleAt(tenant + 3)];
/** A role tenant `i`'s partner does not have there. */
export const ungrantedRoleOf = (tenant: number) => roleAt(tenant + 1);

function roleAt(index: number): string {
  const role = ACCESS_ROLES[index % ACCESS_ROLES.length];
  if (!role) throw new Error('no roles');
  return role;
}

const partnerIdSql = (p: string) => `md5('bench-partner-' || ${p})::uuid`;

/** P partners, each with one live API key; returns the raw keys, key p belonging to partner p. */
export async function seedPartners(db: pg.Client, partners: number): Promise<string[]> {
  const keys = Array.from({ length: partners }, () => newPartnerKey());
  await db.query(
    `INSERT INTO partners (id, name, contact_email, webhook_secret)
     SELECT ${partnerIdSql('p')}, 'Bench Partner ' || p, 'ops@partner' || p || '.bench.example', md5(random()::text)
     FROM generate_series(0, $1::int - 1) AS p`,
    [partners],
  );
  await db.query(
    `INSERT INTO partner_api_keys (id, partner_id, key_hash, prefix)
     SELECT gen_random_uuid(), ${partnerIdSql('k.n - 1')}, k.hash, k.prefix
     FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(hash, prefix, n)`,
    [keys.map((k) => k.keyHash), keys.map((k) => k.prefix)],
  );
  return keys.map((k) => k.apiKey);
}

export interface SeedTimes {
  relationshipsMs: number;
  grantsMs: number;
  /** VACUUM ANALYZE of both tables: statistics for the planner, hint bits and the visibility map set as autovacuum would. */
  analyzeMs: number;
}

/** Replaces every relationship and grant with N tenants' worth: N active relationships, 2N live grants. */
export async function seedTenants(db: pg.Client, tenants: number, partners: number): Promise<SeedTimes> {
  await db.query('TRUNCATE role_grants, relationships CASCADE');
  const timed = async (sql: string, values: unknown[] = []) => {
    const started = performance.now();
    await (values.length > 0 ? db.query(sql, values) : db.query(sql));
    return performance.now() - started;
  };
  const relationshipsMs = await timed(
    `INSERT INTO relationships (id, workflow_id, partner_id, tenant_domain, contact_email, status, roles, policy, live_key,
                                accepted_at, activated_at, version, updated_at)
     SELECT md5('bench-relationship-' || i)::uuid, 'relationship-bench-' || i, partner_id, domain, 'admin@' || domain, 'active',
            ARRAY[r1, r2], '{"invitationTtlSeconds": 1209600, "durationSeconds": 31536000}'::jsonb,
            partner_id || '|' || domain || '|' || LEAST(r1, r2) || ',' || GREATEST(r1, r2),
            now(), now(), 3, now()
     FROM generate_series(0, $1::int - 1) AS i,
          LATERAL (SELECT ${partnerIdSql('i % $2::int')} AS partner_id, 't' || i || '.bench.example' AS domain,
                          ($3::text[])[1 + i % $4::int] AS r1, ($3::text[])[1 + (i + 3) % $4::int] AS r2) AS t`,
    [tenants, partners, ACCESS_ROLES, ACCESS_ROLES.length],
  );
  const grantsMs = await timed(
    `INSERT INTO role_grants (id, relationship_id, partner_id, tenant_domain, role)
     SELECT gen_random_uuid(), r.id, r.partner_id, r.tenant_domain, role
     FROM relationships r CROSS JOIN LATERAL unnest(r.roles) AS role`,
  );
  const analyzeMs = await timed('VACUUM (ANALYZE) relationships, role_grants, partners, partner_api_keys');
  const { rows } = await db.query<{ relationships: string; grants: string }>(
    'SELECT (SELECT count(*) FROM relationships) AS relationships, (SELECT count(*) FROM role_grants) AS grants',
  );
  if (Number(rows[0]?.relationships) !== tenants || Number(rows[0]?.grants) !== 2 * tenants) {
    throw new Error(`seeding wrote ${rows[0]?.relationships} relationships and ${rows[0]?.grants} grants for ${tenants} tenants`);
  }
  return { relationshipsMs, grantsMs, analyzeMs };
}

/** Table plus index size of the tables the check reads, for the report. */
export async function tableSizes(db: pg.Client): Promise<string> {
  const { rows } = await db.query<{ name: string; size: string }>(
    `SELECT relname AS name, pg_size_pretty(pg_total_relation_size(oid)) AS size FROM pg_class
     WHERE relname IN ('role_grants', 'relationships', 'partner_api_keys') ORDER BY relname`,
  );
  return rows.map((r) => `${r.name} ${r.size}`).join(', ');
}
