import { createKeyring, newApiKey as newKeyOf, type KeyKind, type KeyTable } from '../apiKeys/apiKeys.js';
import type { Database } from '../infra/database.js';

// A partner's API keys (`pf_…`), in `partner_api_keys`: issued with the
// partner, rotated with a grace period and revoked at once by the operator
// (src/apiKeys holds how; this is only where they are stored).

export const PARTNER_KEYS: KeyKind = { holder: 'partner', tag: 'pf_' };

/** Who a partner key authenticates as. */
export type PartnerKeyHolder = { partnerId: string; partnerName: string; pausedAt: Date | null; provisioner: string };

const partnerKeyTable: KeyTable<PartnerKeyHolder> = {
  async findByHash(db, keyHash) {
    const key = await db.partnerApiKey.findUnique({ where: { keyHash }, include: { partner: true } });
    return key && { key, holder: { partnerId: key.partnerId, partnerName: key.partner.name, pausedAt: key.partner.pausedAt, provisioner: key.partner.provisioner } };
  },
  holderExists: async (db, partnerId) => (await db.partner.count({ where: { id: partnerId } })) === 1,
  async lockHolder(tx, partnerId) {
    const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM partners WHERE id = ${partnerId}::uuid FOR UPDATE`;
    return rows.length === 1;
  },
  findMany: (tx, partnerId, where) => tx.partnerApiKey.findMany({ where: { partnerId, ...where }, orderBy: { createdAt: 'desc' } }),
  create: (tx, partnerId, key) => tx.partnerApiKey.create({ data: { partnerId, ...key } }),
  update: (tx, id, data) => tx.partnerApiKey.update({ where: { id }, data }),
};

/** A new partner key: the key (shown once), its hash and its prefix. */
export const newApiKey = () => newKeyOf(PARTNER_KEYS);

export function createPartnerKeys(db: Database) {
  return createKeyring(db, PARTNER_KEYS, partnerKeyTable);
}

export type PartnerKeys = ReturnType<typeof createPartnerKeys>;
