import { auditOperatorChange, createKeyring, keyView, newApiKey, type KeyKind, type KeyTable } from '../apiKeys/apiKeys.js';
import type { Database } from '../infra/database.js';

// Enforcers: the systems that execute admin actions in customers' tenants and
// ask partnerflow, before each, whether the partner may (GET /api/v1/access
// with `partner`). The operator creates them, each scoped to a list of tenant
// domains or to every tenant; their keys (`pfe_…`) are rotated and revoked
// exactly like a partner's (src/apiKeys) and may ask the access question only.

export const ENFORCER_KEYS: KeyKind = { holder: 'enforcer', tag: 'pfe_' };

/** Who an enforcer key authenticates as: the enforcer, and the tenants it may ask about (null: any). */
export type EnforcerKeyHolder = { enforcerId: string; tenants: string[] | null };

type EnforcerRow = { id: string; name: string; allTenants: boolean; tenants: string[]; createdAt: Date };

const scopeOf = (enforcer: Pick<EnforcerRow, 'allTenants' | 'tenants'>): string[] | null => (enforcer.allTenants ? null : enforcer.tenants);

const enforcerKeyTable: KeyTable<EnforcerKeyHolder> = {
  async findByHash(db, keyHash) {
    const key = await db.enforcerApiKey.findUnique({ where: { keyHash }, include: { enforcer: true } });
    return key && { key, holder: { enforcerId: key.enforcerId, tenants: scopeOf(key.enforcer) } };
  },
  holderExists: async (db, enforcerId) => (await db.enforcer.count({ where: { id: enforcerId } })) === 1,
  async lockHolder(tx, enforcerId) {
    const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM enforcers WHERE id = ${enforcerId}::uuid FOR UPDATE`;
    return rows.length === 1;
  },
  findMany: (tx, enforcerId, where) => tx.enforcerApiKey.findMany({ where: { enforcerId, ...where }, orderBy: { createdAt: 'desc' } }),
  create: (tx, enforcerId, key) => tx.enforcerApiKey.create({ data: { enforcerId, ...key } }),
  update: (tx, id, data) => tx.enforcerApiKey.update({ where: { id }, data }),
};

function enforcerView(enforcer: EnforcerRow & { apiKeys: Parameters<typeof keyView>[0][] }, now = new Date()) {
  return {
    id: enforcer.id,
    name: enforcer.name,
    tenants: scopeOf(enforcer),
    createdAt: enforcer.createdAt.toISOString(),
    keys: enforcer.apiKeys.map((k) => keyView(k, now)),
  };
}

export function createEnforcers(db: Database) {
  const keys = createKeyring(db, ENFORCER_KEYS, enforcerKeyTable);

  /** A new enforcer and its first key (the key is in this answer only; we keep its hash). Audited as enforcer.created. */
  async function create(input: { name: string; tenants: string[] | null }) {
    const fresh = newApiKey(ENFORCER_KEYS);
    return db.$transaction(async (tx) => {
      const enforcer = await tx.enforcer.create({
        data: {
          name: input.name,
          allTenants: input.tenants === null,
          tenants: input.tenants ?? [],
          apiKeys: { create: { keyHash: fresh.keyHash, prefix: fresh.prefix } },
        },
        include: { apiKeys: true },
      });
      const [key] = enforcer.apiKeys;
      await auditOperatorChange(tx, 'enforcer', 'enforcer.created', {
        enforcerId: enforcer.id,
        name: enforcer.name,
        tenants: scopeOf(enforcer),
        keyId: key?.id ?? null,
        prefix: key?.prefix ?? null,
      });
      return { apiKey: fresh.apiKey, enforcer: enforcerView(enforcer) };
    });
  }

  /** Every enforcer with its keys (prefixes, status and dates; never a key), oldest enforcer first, newest key first. */
  async function list() {
    const now = new Date();
    const enforcers = await db.enforcer.findMany({ orderBy: { createdAt: 'asc' }, include: { apiKeys: { orderBy: { createdAt: 'desc' } } } });
    return enforcers.map((e) => enforcerView(e, now));
  }

  /** The enforcer a presented key belongs to, when the key is live now. */
  async function authenticate(apiKey: string): Promise<EnforcerKeyHolder | null> {
    return (await keys.authenticate(apiKey))?.holder ?? null;
  }

  return { create, list, authenticate, keys };
}

export type Enforcers = ReturnType<typeof createEnforcers>;
