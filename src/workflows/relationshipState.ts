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
      expiresAt: new Date(now.getTime() + offer.policy.invitationTtlMs).toISOString(),
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
