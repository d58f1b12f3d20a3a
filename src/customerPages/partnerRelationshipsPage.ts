import { tenantChain } from '../audit/auditChain.js';
import { createAuditExport } from '../audit/auditExport.js';
import { isEnded, liveAfterAcceptance, type RelationshipStatus } from '../contract/statuses.js';
import { AppError } from '../http/errors.js';
import type { Database } from '../infra/database.js';
import type { RelationshipService } from '../relationships/relationshipService.js';
import { storedSubscription } from '../relationships/storedOffer.js';
import type { CustomerSession } from './customerSession.js';
import type { PartnerFilter, PartnerRow } from './pages/partnerRelationshipPages.js';

// What a signed-in admin sees and does on Partner relationships: the tenant's
// partners (with the subscription each sells, if any), and Delete → Yes. Everything is scoped to the session's tenant:
// another tenant's relationship is "not found", exactly like a missing one.

export interface PartnerRelationshipsPageDeps {
  db: Database;
  relationships: Pick<RelationshipService, 'removeByCustomer'>;
}

export function createPartnerRelationshipsPage(deps: PartnerRelationshipsPageDeps) {
  const { db, relationships } = deps;
  const audit = createAuditExport(db);

  /** The tenant's partners, newest first; invitations nobody answered yet are not partners. */
  async function list(current: CustomerSession, filter: PartnerFilter): Promise<PartnerRow[]> {
    const rows = await db.relationship.findMany({
      where: { tenantDomain: current.tenant, status: { not: 'invited' } },
      include: { partner: true, subscription: true },
      orderBy: { createdAt: 'desc' },
    });
    const shown = rows.filter((r) => filter === 'all' || (filter === 'ended') === isEnded(r.status as RelationshipStatus));
    return shown.map((r) => ({
      id: r.id,
      partnerName: r.partner.name,
      status: r.status,
      roles: r.roles,
      since: r.activatedAt ?? r.acceptedAt,
      ends: r.endedAt ?? r.endsAt,
      removable: liveAfterAcceptance.includes(r.status as RelationshipStatus),
      subscription: storedSubscription(r.subscription),
    }));
  }

  /** The tenant's relationship `id`, or null. */
  async function find(current: CustomerSession, id: string) {
    const rel = await db.relationship.findFirst({ where: { id, tenantDomain: current.tenant }, include: { partner: true } });
    return rel ? { id: rel.id, partnerName: rel.partner.name } : null;
  }

  /** Delete → Yes: the workflow removes the partner; a relationship that has ended already is `alreadyEnded`. */
  async function remove(current: CustomerSession, id: string) {
    const rel = await find(current, id);
    if (!rel) return { outcome: 'notFound' } as const;
    try {
      await relationships.removeByCustomer(current.tenant, current.email, rel.id);
    } catch (err) {
      if (err instanceof AppError && err.code === 'stepRefused') return { outcome: 'alreadyEnded' } as const;
      throw err;
    }
    return { outcome: 'removed', partnerName: rel.partnerName } as const;
  }

  /** The tenant's own audit chain, as NDJSON lines (operator-only data withheld as its digest). */
  function auditLog(current: CustomerSession): AsyncGenerator<string> {
    return audit.lines(tenantChain(current.tenant), 'customer');
  }

  return { list, find, remove, auditLog };
}

export type PartnerRelationshipsPage = ReturnType<typeof createPartnerRelationshipsPage>;
