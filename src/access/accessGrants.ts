import type { Pool } from 'pg';

// The reads behind the access check: ONE statement per request authenticates
// the key and answers every question of it, straight from the primary, with
// no cache. A question is answered yes only while all of these hold at the
// statement's start: the grant is not revoked, its relationship is `active`,
// not past `ends_at` (unless it renews itself: an auto-extending relationship
// is renewed by its workflow at `ends_at`, so a worker running late must not
// turn a live relationship into a "no"), and its partner is not paused. Every
// path that ends access (removal, terminate, expiry, pause, the reconciler)
// commits one of those before it returns, so a check that starts after it
// returned cannot say yes. Statements are prepared once per connection (named).

const LIVE_KEY = `k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > (now() AT TIME ZONE 'UTC'))`;

/** The grant that answers yes for (partner, tenant, role), if one does now; the three are SQL expressions. */
const liveGrant = (partner: string, tenant: string, role: string) => `
  LEFT JOIN LATERAL (
    SELECT g.relationship_id FROM role_grants g
    JOIN relationships r ON r.id = g.relationship_id
    JOIN partners p ON p.id = g.partner_id
    WHERE g.partner_id = ${partner} AND g.tenant_domain = ${tenant} AND g.role = ${role} AND g.revoked_at IS NULL
      AND r.status = 'active' AND (r.ends_at IS NULL OR r.ends_at > (now() AT TIME ZONE 'UTC') OR r.auto_extend)
      AND p.paused_at IS NULL
    LIMIT 1
  ) g ON true`;

const statements = {
  partnerOne: `SELECT k.partner_id, g.relationship_id FROM partner_api_keys k ${liveGrant('k.partner_id', '$2', '$3')} WHERE ${LIVE_KEY}`,
  partnerMany: `
    SELECT k.partner_id, g.relationship_id FROM partner_api_keys k
    CROSS JOIN unnest($2::text[], $3::text[]) WITH ORDINALITY AS c(tenant, role, n)
    ${liveGrant('k.partner_id', 'c.tenant', 'c.role')}
    WHERE ${LIVE_KEY} ORDER BY c.n`,
  enforcerOne: `
    SELECT k.enforcer_id, e.all_tenants, e.tenants, g.relationship_id FROM enforcer_api_keys k
    JOIN enforcers e ON e.id = k.enforcer_id
    ${liveGrant('$2::uuid', '$3', '$4')}
    WHERE ${LIVE_KEY}`,
  enforcerMany: `
    SELECT k.enforcer_id, e.all_tenants, e.tenants, g.relationship_id FROM enforcer_api_keys k
    JOIN enforcers e ON e.id = k.enforcer_id
    CROSS JOIN unnest($2::uuid[], $3::text[], $4::text[]) WITH ORDINALITY AS c(partner, tenant, role, n)
    ${liveGrant('c.partner', 'c.tenant', 'c.role')}
    WHERE ${LIVE_KEY} ORDER BY c.n`,
} as const;

/** A question with its partner decided (a partner key's own, or the one an enforcer named). */
export interface Question {
  partner: string;
  tenant: string;
  role: string;
}

/** Per question, in order: the relationship whose grant says yes, or null for no. */
export type Answers = (string | null)[];

export type PartnerKeyAnswers = { partnerId: string; answers: Answers };
export type EnforcerKeyAnswers = { enforcerId: string; tenants: string[] | null; answers: Answers };

type PartnerRow = { partner_id: string; relationship_id: string | null };
type EnforcerRow = { enforcer_id: string; all_tenants: boolean; tenants: string[]; relationship_id: string | null };

export function createAccessGrants(pool: Pool) {
  /**
   * With a partner key (by its hash): the key's partner and the answers about
   * that partner (the question's `partner` is ignored here: the caller checks
   * it names the key's own). Null when the key is unknown, revoked or expired.
   */
  async function askWithPartnerKey(keyHash: string, questions: Omit<Question, 'partner'>[]): Promise<PartnerKeyAnswers | null> {
    const [first] = questions;
    const { rows } =
      questions.length === 1 && first
        ? await pool.query<PartnerRow>({ name: 'access-partner-one', text: statements.partnerOne, values: [keyHash, first.tenant, first.role] })
        : await pool.query<PartnerRow>({
            name: 'access-partner-many',
            text: statements.partnerMany,
            values: [keyHash, questions.map((q) => q.tenant), questions.map((q) => q.role)],
          });
    const [row] = rows;
    return row ? { partnerId: row.partner_id, answers: rows.map((r) => r.relationship_id) } : null;
  }

  /** With an enforcer key: the enforcer, its scope (null: every tenant) and the answers. Null for a dead key. */
  async function askWithEnforcerKey(keyHash: string, questions: Question[]): Promise<EnforcerKeyAnswers | null> {
    const [first] = questions;
    const { rows } =
      questions.length === 1 && first
        ? await pool.query<EnforcerRow>({ name: 'access-enforcer-one', text: statements.enforcerOne, values: [keyHash, first.partner, first.tenant, first.role] })
        : await pool.query<EnforcerRow>({
            name: 'access-enforcer-many',
            text: statements.enforcerMany,
            values: [keyHash, questions.map((q) => q.partner), questions.map((q) => q.tenant), questions.map((q) => q.role)],
          });
    const [row] = rows;
    return row ? { enforcerId: row.enforcer_id, tenants: row.all_tenants ? null : row.tenants, answers: rows.map((r) => r.relationship_id) } : null;
  }

  return { askWithPartnerKey, askWithEnforcerKey };
}

export type AccessGrants = ReturnType<typeof createAccessGrants>;
