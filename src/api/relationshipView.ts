import type { RelationshipState } from '../contract/relationship.js';
import type { Prisma } from '../generated/prisma/client.js';

// The one JSON shape of a relationship, whether read from the read model
// (GET) or from the workflow's own state right after a step (POST).

export const relationshipInclude = {
  tenant: true,
  trial: true,
  auditEvents: { orderBy: { createdAt: 'asc' } },
} satisfies Prisma.RelationshipInclude;

type RelationshipRow = Prisma.RelationshipGetPayload<{ include: typeof relationshipInclude }>;

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export function relationshipFromRow(row: RelationshipRow, temporalUiUrl: string, namespace: string) {
  return {
    id: row.id,
    status: row.status,
    partnerId: row.partnerId,
    customer: { tenantDomain: row.tenantDomain, name: row.tenant.name, adminEmail: row.tenant.adminEmail },
    roles: row.roles,
    terms: row.terms,
    autoExtend: row.autoExtend,
    invitationExpiresAt: iso(row.invitationExpiresAt),
    acceptedAt: iso(row.acceptedAt),
    activatedAt: iso(row.activatedAt),
    endsAt: iso(row.endsAt),
    endedAt: iso(row.endedAt),
    trial: row.trial
      ? { offer: row.trial.offer, seats: row.trial.seats, days: row.trial.days, status: row.trial.status, endsAt: iso(row.trial.endsAt), failureReason: row.trial.failureReason }
      : row.trialOffer ?? null,
    transitions: row.auditEvents
      .filter((e) => e.toStatus)
      .map((e) => ({ from: e.fromStatus, to: e.toStatus, at: e.createdAt.toISOString(), actor: { type: e.actorType, id: e.actorId }, reason: e.reason })),
    workflowId: row.workflowId,
    links: { temporalUi: temporalUiLink(temporalUiUrl, namespace, row.workflowId) },
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    version: row.version,
  };
}

export function relationshipFromState(state: RelationshipState, workflowId: string, temporalUiUrl: string, namespace: string) {
  return {
    id: state.relationshipId,
    status: state.status,
    roles: state.roles,
    autoExtend: state.autoExtend,
    invitationExpiresAt: state.invitation.expiresAt,
    acceptedAt: state.acceptedAt ?? null,
    activatedAt: state.activatedAt ?? null,
    endsAt: state.endsAt ?? null,
    endedAt: state.endedAt ?? null,
    trial: state.trial ?? null,
    transitions: state.transitions.map((t) => ({ from: t.from, to: t.to, at: t.at, actor: t.actor, reason: t.reason ?? null })),
    workflowId,
    links: { temporalUi: temporalUiLink(temporalUiUrl, namespace, workflowId) },
  };
}

export function temporalUiLink(temporalUiUrl: string, namespace: string, workflowId: string): string {
  return new URL(`/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`, temporalUiUrl).toString();
}
