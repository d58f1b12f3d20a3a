import { createHash } from 'node:crypto';
import { roleCatalog } from '../contract/roles.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Database } from '../infra/database.js';

const contextInclude = { partner: true, trial: true, subscription: true } as const;

// What the email activities need to know about a relationship, loaded in one query.
export async function loadRelationshipContext(db: Database, relationshipId: string) {
  return contextOf(await db.relationship.findUniqueOrThrow({ where: { id: relationshipId }, include: contextInclude }));
}

/** The same, and the invitation an invitation step wrote (`undefined` before it did), in the same query. */
export async function loadInvitationStepContext(db: Database, relationshipId: string, invitationKey: string) {
  const { invitations, ...rel } = await db.relationship.findUniqueOrThrow({
    where: { id: relationshipId },
    include: { ...contextInclude, invitations: { where: { idempotencyKey: invitationKey } } },
  });
  return { context: contextOf(rel), existing: invitations[0] };
}

function contextOf<R extends Prisma.RelationshipGetPayload<{ include: typeof contextInclude }>>(rel: R) {
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
