import { addDuration } from '../contract/policy.js';
import type { SubscriptionCompletion, SubscriptionState } from '../contract/purchase.js';
import type { Actor, RelationshipOffer, RelationshipState } from '../contract/relationship.js';

// Pure state helpers, kept apart from the workflow so they stay small and obvious.

export function initialState(offer: RelationshipOffer, now: Date): RelationshipState {
  return {
    relationshipId: offer.relationshipId,
    status: 'invited',
    roles: offer.roles,
    autoExtend: offer.autoExtend,
    invitation: {
      validIds: [],
      round: 0,
      issued: 0,
      // An expiry no date can hold (a policy the workflow then refuses) must not throw before that check.
      expiresAt: addDuration(now.getTime(), offer.policy.invitationTtlMs) ?? now.toISOString(),
      reminderSent: false,
      deliveryFailed: false,
    },
    warningsSent: [],
    renewals: 0,
    ...(offer.trial ? { trial: { ...offer.trial, status: 'pending' as const } } : {}),
    ...(offer.purchase ? { subscription: { ...offer.purchase, status: 'offered' as const } } : {}),
    transitions: [
      { seq: 1, from: null, to: 'invited', at: now.toISOString(), actor: { type: 'partner', id: offer.partnerId } },
    ],
    writtenSeq: 0,
  };
}

/** The customer's answer to the purchase, given with the acceptance: agreed (by whom, when) or declined. */
export function answerPurchase(s: SubscriptionState, actor: Actor, confirmed: boolean, at: string): void {
  if (!confirmed) {
    s.status = 'declined';
    return;
  }
  // `requested` from the agreement on: the partner's side is asked once the relationship is active.
  s.status = 'requested';
  s.agreedAt = at;
  if (actor.id) s.agreedBy = actor.id;
}

/** The partner's system's answer (or the deadline's), applied once. */
export function applyCompletion(s: SubscriptionState, completion: SubscriptionCompletion, at: string): void {
  s.status = completion.status;
  s.completedAt = at;
  if (completion.status === 'active') s.externalRef = completion.externalRef;
  else s.failureReason = completion.reason;
}

/** The Temporal Web UI's summary of a run (setCurrentDetails): status, parties, roles, and the subscription if any. */
export function summaryOf(offer: RelationshipOffer, state: RelationshipState): string {
  const base = `**${state.status}** · ${offer.partnerName} → ${offer.tenantDomain} · roles: ${state.roles.join(', ')}`;
  const s = state.subscription;
  return s ? `${base} · subscription: ${s.product} × ${s.seats} per ${s.term}, **${s.status}**` : base;
}
