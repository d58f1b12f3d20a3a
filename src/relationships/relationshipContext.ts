import { createHash } from 'node:crypto';
import { roleCatalog } from '../contract/roles.js';
import type { Database } from '../infra/database.js';

// What the email activities need to know about a relationship, loaded in one query;
// with `invitationKey`, that step's invitation too (without it, or before the step wrote one, `invitations` is empty).
export async function loadRelationshipContext(db: Database, relationshipId: string, invitationKey = '') {
  const rel = await db.relationship.findUniqueOrThrow({
    where: { id: relationshipId },
    include: { partner: true, trial: true, subscription: true, invitations: { where: { idempotencyKey: invitationKey } } },
  });
  const roles = rel.roles.map((id) => {
    const role = roleCatalog.find((r) => r.id === id);
    return { name: role?.name ?? id, description: role?.description ?? id };
  });
  const parties = {
    partnerName: rel.partner.name,
    customerName: rel.contactName ?? rel.tenantDomain,
    tenantDomain: rel.tenantDomain,
  };
  return { rel, roles, parties };
}

/**
 * Who hears about a live relationship on the customer's side: the tenant's
 * verified admins now. A relationship from before the tenant directory (its
 * tenant never registered) falls back to the contact it was offered to.
 */
export async function customerRecipients(db: Database, tenantDomain: string, contactEmail: string): Promise<string[]> {
  const admins = await db.tenantAdmin.findMany({ where: { tenantDomain }, orderBy: { verifiedAt: 'asc' }, select: { email: true } });
  return admins.length > 0 ? admins.map((a) => a.email) : [contactEmail];
}

/** A per-recipient part of a mail job id: stable, short, and no address in Redis keys. */
export const recipientKey = (email: string) => createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 16);

export type RelationshipContext = Awaited<ReturnType<typeof loadRelationshipContext>>;
