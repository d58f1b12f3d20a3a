// Statuses are strings on the wire (API, search attributes, read model);
// clients must tolerate new ones, so nothing outside this module switches
// exhaustively on them without a default.
export const relationshipStatuses = [
  'invited',
  'accepted',
  'provisioning',
  'active',
  'declined',
  'invitationExpired',
  'withdrawn',
  'terminated',
  'expired',
] as const;

export type RelationshipStatus = (typeof relationshipStatuses)[number];

export const endStatuses: readonly RelationshipStatus[] = [
  'declined',
  'invitationExpired',
  'withdrawn',
  'terminated',
  'expired',
];

export function isEnded(status: RelationshipStatus): boolean {
  return endStatuses.includes(status);
}

/** Statuses in which the partner holds (or is about to hold) granted roles and may be removed. */
export const liveAfterAcceptance: readonly RelationshipStatus[] = ['accepted', 'provisioning', 'active'];
