import { roleCatalog } from '../contract/roles.js';
import type { Database } from '../infra/database.js';

// What the email activities need to know about a relationship, loaded in one query.
export async function loadRelationshipContext(db: Database, relationshipId: string) {
  const rel = await db.relationship.findUniqueOrThrow({
    where: { id: relationshipId },
    include: { partner: true, tenant: true, trial: true },
  });
  const roles = rel.roles.map((id) => {
    const role = roleCatalog.find((r) => r.id === id);
    return { name: role?.name ?? id, description: role?.description ?? id };
  });
  const parties = {
    partnerName: rel.partner.name,
    customerName: rel.tenant.name ?? rel.tenantDomain,
    tenantDomain: rel.tenantDomain,
  };
  return { rel, roles, parties };
}

export type RelationshipContext = Awaited<ReturnType<typeof loadRelationshipContext>>;
