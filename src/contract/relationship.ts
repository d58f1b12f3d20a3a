import type { RelationshipPolicy } from './policy.js';
import type { ProvisionerKind, PurchaseOffer, SubscriptionState } from './purchase.js';
import type { RoleId } from './roles.js';
import type { RelationshipStatus } from './statuses.js';

export type ActorType = 'partner' | 'customer' | 'operator' | 'system';

export interface Actor {
  type: ActorType;
  /** Partner id, customer admin email or operator name; absent for the system. */
  id?: string;
}

export const systemActor: Actor = { type: 'system' };

export interface TrialOffer {
  offer: string;
  seats: number;
  days: number;
}

/**
 * `cancelled`: the relationship ended while the trial was being provisioned, so it was undone.
 * `requested`: the partner's own system was asked for it (`trial.requested`) and has not answered yet.
 */
export type TrialStatus = 'pending' | 'requested' | 'active' | 'failed' | 'skipped' | 'cancelled';

export interface TrialState extends TrialOffer {
  status: TrialStatus;
  externalRef?: string;
  failureReason?: string;
  /** When the partner's system was asked, and by when it must complete the request (partner provisioner only). */
  requestedAt?: string;
  deadlineAt?: string;
}

export interface Transition {
  seq: number;
  from: RelationshipStatus | null;
  to: RelationshipStatus;
  at: string;
  actor: Actor;
  reason?: string;
}

export interface RelationshipOffer {
  relationshipId: string;
  partnerId: string;
  partnerName: string;
  tenantDomain: string;
  customerAdminEmail: string;
  customerName?: string;
  roles: RoleId[];
  terms?: string;
  autoExtend: boolean;
  trial?: TrialOffer;
  /** A subscription the partner sells and bills itself (docs/commerce.md); absent in offers made before it existed. */
  purchase?: PurchaseOffer;
  /**
   * Who creates the trial and the subscription, fixed when the offer is made (the partner's
   * setting then); absent in older offers, which mean `local`.
   */
  provisioning?: OfferProvisioning;
  policy: RelationshipPolicy;
}

export interface OfferProvisioning {
  by: ProvisionerKind;
  /** How long the partner's system may take to complete a request (purchaseRanges.completionDeadlineSeconds). */
  deadlineSeconds: number;
}

export interface InvitationDeliveryFailure {
  template: 'invitation' | 'reminder';
  reason: string;
  at: string;
  /** The invitation round (bumped by each resend) the refused email belonged to. */
  round: number;
  partnerTold: boolean;
}

/** The whole state, as the `getState` query returns it and continue-as-new carries it. */
export interface RelationshipState {
  relationshipId: string;
  status: RelationshipStatus;
  roles: RoleId[];
  autoExtend: boolean;
  invitation: {
    /** Ids of the invitations whose links are still accepted (a reminder adds one, a resend replaces all). */
    validIds: string[];
    /** Bumped by every resend so timers re-arm; also the count of resends, which the operator caps. */
    round: number;
    /** When the last resend went out (the resend cooldown runs from it, or from the offer). */
    resentAt?: string;
    issued: number;
    expiresAt: string;
    reminderSent: boolean;
    /** True once an invitation or reminder was refused for good by the customer's mail server. */
    deliveryFailed: boolean;
    /** The latest such refusal; the partner is told once per invitation round. */
    deliveryFailure?: InvitationDeliveryFailure;
  };
  acceptedAt?: string;
  activatedAt?: string;
  endsAt?: string;
  endedAt?: string;
  warningsSent: number[];
  renewals: number;
  /** setAutoExtend changes so far (absent before the limit existed: none counted). */
  autoExtendChanges?: number;
  trial?: TrialState;
  /** The purchase offered with the relationship and where it stands; absent without one. */
  subscription?: SubscriptionState;
  transitions: Transition[];
  /** Highest transition seq written to the read model. */
  writtenSeq: number;
}

/**
 * The relationship's dates and status after a transition: what the workflow
 * hands the read model, and what a webhook's `relationship` field carries.
 * The one shape of it; the read model, the webhook event and the workflow use this type.
 */
export interface RelationshipSnapshot {
  status: RelationshipStatus;
  invitationExpiresAt: string;
  acceptedAt: string | null;
  activatedAt: string | null;
  endsAt: string | null;
  endedAt: string | null;
  autoExtend: boolean;
}

/** One transition as the workflow records it (activity `recordTransition`, then the webhook outbox). */
export interface RecordTransitionInput {
  workflowId: string;
  relationshipId: string;
  transition: Transition;
  snapshot: RelationshipSnapshot;
}

/** Several transitions written in one activity, oldest first (activity `recordTransitions`): one workflow round trip instead of one each. */
export interface RecordTransitionsInput {
  workflowId: string;
  relationshipId: string;
  transitions: Transition[];
  snapshot: RelationshipSnapshot;
}

/** The snapshot of a relationship's state (pure: the workflow calls it on every transition). */
export function snapshotOf(state: RelationshipState): RelationshipSnapshot {
  return {
    status: state.status,
    invitationExpiresAt: state.invitation.expiresAt,
    acceptedAt: state.acceptedAt ?? null,
    activatedAt: state.activatedAt ?? null,
    endsAt: state.endsAt ?? null,
    endedAt: state.endedAt ?? null,
    autoExtend: state.autoExtend,
  };
}

export interface RelationshipWorkflowInput {
  offer: RelationshipOffer;
  /** Set when the workflow continues as new at a renewal. */
  carried?: RelationshipState;
}

export function relationshipWorkflowId(relationshipId: string): string {
  return `relationship-${relationshipId}`;
}
