import type { ActorType, RelationshipSnapshot, Transition } from '../contract/relationship.js';
import type { RelationshipStatus } from '../contract/statuses.js';

/**
 * The JSON body of every webhook: one transition of one relationship.
 * Partners rely on this shape; add fields freely, never rename or remove one.
 * (A type, not an interface, so it stays assignable to Prisma's JSON input type.)
 */
export type RelationshipWebhookEvent = {
  /** Stable across retries of the same delivery: receivers drop ids they have seen. */
  id: string;
  /** `relationship.<status>`, e.g. `relationship.accepted`. */
  type: `relationship.${RelationshipStatus}`;
  createdAt: string;
  data: {
    relationshipId: string;
    partnerId: string;
    tenantDomain: string;
    status: RelationshipStatus;
    /** Deliveries may arrive out of order; `transition.seq` orders them per relationship. */
    transition: { seq: number; from: RelationshipStatus | null; to: RelationshipStatus; at: string; actor: { type: ActorType; id?: string }; reason: string | null };
    relationship: { roles: string[] } & Omit<RelationshipSnapshot, 'status'>;
  };
};

/** The delivery id of a transition: workflow ID + sequence number (no `:`, never all digits, as BullMQ requires). */
export function transitionDeliveryId(workflowId: string, seq: number): string {
  return `${workflowId}-transition-${seq}`;
}

export function transitionEvent(input: {
  workflowId: string;
  relationshipId: string;
  partnerId: string;
  tenantDomain: string;
  roles: string[];
  transition: Transition;
  snapshot: RelationshipSnapshot;
}): RelationshipWebhookEvent {
  const { transition: t, snapshot } = input;
  return {
    id: transitionDeliveryId(input.workflowId, t.seq),
    type: `relationship.${t.to}`,
    createdAt: t.at,
    data: {
      relationshipId: input.relationshipId,
      partnerId: input.partnerId,
      tenantDomain: input.tenantDomain,
      status: snapshot.status,
      transition: {
        seq: t.seq,
        from: t.from,
        to: t.to,
        at: t.at,
        // A customer's address is never sent: it would tell the partner who the tenant's admins are.
        actor: t.actor.id && t.actor.type !== 'customer' ? { type: t.actor.type, id: t.actor.id } : { type: t.actor.type },
        reason: t.reason ?? null,
      },
      relationship: {
        roles: input.roles,
        invitationExpiresAt: snapshot.invitationExpiresAt,
        acceptedAt: snapshot.acceptedAt,
        activatedAt: snapshot.activatedAt,
        endsAt: snapshot.endsAt,
        endedAt: snapshot.endedAt,
        autoExtend: snapshot.autoExtend,
      },
    },
  };
}
