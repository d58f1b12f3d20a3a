import { addDuration } from '../contract/policy.js';
import type { RelationshipOffer, RelationshipState } from '../contract/relationship.js';

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
    transitions: [
      { seq: 1, from: null, to: 'invited', at: now.toISOString(), actor: { type: 'partner', id: offer.partnerId } },
    ],
    writtenSeq: 0,
  };
}
