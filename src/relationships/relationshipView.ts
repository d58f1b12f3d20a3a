import { purchaseTotal, type SubscriptionState } from '../contract/purchase.js';
import type { RelationshipState, TrialOffer } from '../contract/relationship.js';
import type { Prisma } from '../generated/prisma/client.js';
import { storedTrialOffer } from './storedOffer.js';

// The one JSON shape of a relationship, whether read from the read model
// (GET) or from the workflow's own state right after a step (POST).

export const relationshipInclude = {
  trial: true,
  subscription: true,
  auditEvents: { orderBy: { createdAt: 'asc' } },
} satisfies Prisma.RelationshipInclude;

type RelationshipRow = Prisma.RelationshipGetPayload<{ include: typeof relationshipInclude }>;

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

interface TrialView extends TrialOffer {
  status?: string;
  endsAt?: string | null;
  failureReason?: string | null;
}

function trialOf(row: RelationshipRow): TrialView | null {
  if (row.trial) {
    const { offer, seats, days, status, endsAt, failureReason } = row.trial;
    return { offer, seats, days, status, endsAt: iso(endsAt), failureReason };
  }
  // Offered but not (yet) taken: the offer as the partner sent it.
  const offered = storedTrialOffer(row.trialOffer);
  return offered ? { offer: offered.offer, seats: offered.seats, days: offered.days } : null;
}

/** The purchase offered with a relationship and where it stands (docs/commerce.md). */
export interface SubscriptionView {
  status: string;
  product: string;
  seats: number;
  term: string;
  pricePerSeat: { amount: string; currency: string };
  /** seats × price per seat, per term, exact. */
  total: { amount: string; currency: string };
  autoRenew: boolean;
  agreedAt: string | null;
  /** The customer admin who agreed: shown to operators only (partners never learn who a tenant's admins are). */
  agreedBy?: string | null;
  requestedAt: string | null;
  deadlineAt: string | null;
  completedAt: string | null;
  externalRef: string | null;
  failureReason: string | null;
}

type SubscriptionFields = Omit<SubscriptionView, 'total' | 'agreedBy'> & { agreedBy: string | null };

function subscriptionView(s: SubscriptionFields, showCustomerIdentity: boolean): SubscriptionView {
  const { agreedBy, ...rest } = s;
  return { ...rest, total: purchaseTotal(s), ...(showCustomerIdentity ? { agreedBy } : {}) };
}

function subscriptionOf(row: RelationshipRow, showCustomerIdentity: boolean): SubscriptionView | null {
  const s = row.subscription;
  if (!s) return null;
  return subscriptionView(
    {
      status: s.status,
      product: s.product,
      seats: s.seats,
      term: s.term,
      pricePerSeat: { amount: s.priceAmount, currency: s.currency },
      autoRenew: s.autoRenew,
      agreedAt: iso(s.agreedAt),
      agreedBy: s.agreedBy,
      requestedAt: iso(s.requestedAt),
      deadlineAt: iso(s.deadlineAt),
      completedAt: iso(s.completedAt),
      externalRef: s.externalRef,
      failureReason: s.failureReason,
    },
    showCustomerIdentity,
  );
}

function subscriptionFromState(s: SubscriptionState, showCustomerIdentity: boolean): SubscriptionView {
  return subscriptionView(
    {
      status: s.status,
      product: s.product,
      seats: s.seats,
      term: s.term,
      pricePerSeat: s.pricePerSeat,
      autoRenew: s.autoRenew,
      agreedAt: s.agreedAt ?? null,
      agreedBy: s.agreedBy ?? null,
      requestedAt: s.requestedAt ?? null,
      deadlineAt: s.deadlineAt ?? null,
      completedAt: s.completedAt ?? null,
      externalRef: s.externalRef ?? null,
      failureReason: s.failureReason ?? null,
    },
    showCustomerIdentity,
  );
}

export interface ViewOptions {
  temporalUiUrl: string;
  namespace: string;
  /** Operators see which admin acted; partners see only that the customer did. */
  showCustomerIdentity: boolean;
}

function actorView(type: string, id: string | null | undefined, showCustomerIdentity: boolean) {
  return { type, id: type === 'customer' && !showCustomerIdentity ? null : (id ?? null) };
}

export function relationshipFromRow(row: RelationshipRow, { temporalUiUrl, namespace, showCustomerIdentity }: ViewOptions) {
  return {
    id: row.id,
    status: row.status,
    partnerId: row.partnerId,
    // The contact as the partner named it; never the tenant directory's name or admins.
    customer: { tenantDomain: row.tenantDomain, name: row.contactName, adminEmail: row.contactEmail },
    roles: row.roles,
    terms: row.terms,
    autoExtend: row.autoExtend,
    invitationExpiresAt: iso(row.invitationExpiresAt),
    invitationDeliveryFailure: deliveryFailureFromAudit(row.auditEvents),
    acceptedAt: iso(row.acceptedAt),
    activatedAt: iso(row.activatedAt),
    endsAt: iso(row.endsAt),
    endedAt: iso(row.endedAt),
    trial: trialOf(row),
    subscription: subscriptionOf(row, showCustomerIdentity),
    transitions: row.auditEvents
      .filter((e) => e.toStatus)
      .map((e) => ({
        from: e.fromStatus,
        to: e.toStatus,
        at: e.createdAt.toISOString(),
        actor: actorView(e.actorType, e.actorId, showCustomerIdentity),
        reason: e.reason,
      })),
    workflowId: row.workflowId,
    links: { temporalUi: temporalUiLink(temporalUiUrl, namespace, row.workflowId) },
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    version: row.version,
  };
}

export type RelationshipView = ReturnType<typeof relationshipFromRow>;

/**
 * A relationship right after a step: the read model (written by the workflow a
 * moment later) overlaid with the workflow's own state, which the step returned.
 */
export function relationshipAfterStep(before: RelationshipView, state: RelationshipState, { showCustomerIdentity }: Pick<ViewOptions, 'showCustomerIdentity'>): RelationshipView {
  const trial = before.trial && state.trial ? { ...before.trial, status: state.trial.status, failureReason: state.trial.failureReason ?? null } : before.trial;
  return {
    ...before,
    status: state.status,
    roles: state.roles,
    autoExtend: state.autoExtend,
    invitationExpiresAt: state.invitation.expiresAt,
    invitationDeliveryFailure: state.invitation.deliveryFailure
      ? { at: state.invitation.deliveryFailure.at, reason: state.invitation.deliveryFailure.reason }
      : null,
    acceptedAt: state.acceptedAt ?? null,
    activatedAt: state.activatedAt ?? null,
    endsAt: state.endsAt ?? null,
    endedAt: state.endedAt ?? null,
    trial,
    subscription: state.subscription ? subscriptionFromState(state.subscription, showCustomerIdentity) : before.subscription,
    transitions: state.transitions.map((t) => ({
      from: t.from,
      to: t.to,
      at: t.at,
      actor: actorView(t.actor.type, t.actor.id, showCustomerIdentity),
      reason: t.reason ?? null,
    })),
    version: state.transitions.at(-1)?.seq ?? before.version,
  };
}

/** "Invitation could not be delivered": the latest refusal by the customer's mail server, if any. */
function deliveryFailureFromAudit(events: RelationshipRow['auditEvents']): { at: string; reason: string | null } | null {
  const last = events.filter((e) => e.action === 'invitation.undeliverable').at(-1);
  return last ? { at: last.createdAt.toISOString(), reason: last.reason } : null;
}

export function temporalUiLink(temporalUiUrl: string, namespace: string, workflowId: string): string {
  return new URL(`/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`, temporalUiUrl).toString();
}
