import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ProvisioningCompletion, SubscriptionCompletion } from './purchase.js';
import type { Actor, RelationshipState } from './relationship.js';

// Messages are defined once here and imported by the workflow, the API and the
// tests, so a name or payload can't drift between them.

export interface InvitationResponse {
  invitationId: string;
  actor: Actor;
}

export interface AcceptInput extends InvitationResponse {
  /** Whether the customer takes the trial offered with the invitation. */
  startTrial: boolean;
  /**
   * The customer's answer to a purchase offered with the invitation: true only after the
   * explicit agreement. Authorizing never depends on it; absent means no.
   */
  purchaseConfirmed?: boolean;
}

/** The partner's system completing (or failing) the subscription it was asked for. */
export interface CompleteSubscriptionInput {
  actor: Actor;
  completion: SubscriptionCompletion;
}

/** The partner's system completing (or failing) the trial it was asked for. */
export interface CompleteTrialInput {
  actor: Actor;
  completion: ProvisioningCompletion;
}

export interface DeclineInput extends InvitationResponse {
  reason?: string;
}

export interface ActorInput {
  actor: Actor;
  reason?: string;
}

export interface SetAutoExtendInput {
  actor: Actor;
  autoExtend: boolean;
}

export const acceptUpdate = defineUpdate<RelationshipState, [AcceptInput]>('accept');
export const declineUpdate = defineUpdate<RelationshipState, [DeclineInput]>('decline');
export const withdrawUpdate = defineUpdate<RelationshipState, [ActorInput]>('withdraw');
export const resendUpdate = defineUpdate<RelationshipState, [ActorInput]>('resend');
export const terminateUpdate = defineUpdate<RelationshipState, [ActorInput]>('terminate');
export const removeUpdate = defineUpdate<RelationshipState, [ActorInput]>('remove');
export const setAutoExtendUpdate = defineUpdate<RelationshipState, [SetAutoExtendInput]>('setAutoExtend');
export const completeSubscriptionUpdate = defineUpdate<RelationshipState, [CompleteSubscriptionInput]>('completeSubscription');
export const completeTrialUpdate = defineUpdate<RelationshipState, [CompleteTrialInput]>('completeTrial');
export const getStateQuery = defineQuery<RelationshipState>('getState');

export interface InvitationUndeliverableInput {
  /** Mail job id of the refused message (workflow ID + invitation step). */
  jobId: string;
  template: 'invitation' | 'reminder';
  reason: string;
}

/**
 * Sent by the mail worker when the customer's mail server refuses an invitation
 * or reminder for good. A signal, not an update: the worker needs no answer, and
 * the workflow may have ended already (then there is nobody left to tell).
 */
export const invitationUndeliverableSignal = defineSignal<[InvitationUndeliverableInput]>('invitationUndeliverable');

/** ApplicationFailure type of every refused step; `details[0]` is a StepRefusal. */
export const STEP_REFUSED = 'StepRefused';

export type RefusalReason =
  | 'invalidState'
  | 'invitationExpired'
  | 'invitationUsed'
  | 'invitationSuperseded'
  | 'alreadyEnded'
  /** A resend too soon after the last invitation went out; `retryAfterSeconds` says when. */
  | 'resendCooldown'
  /** The invitation was sent again as often as the operator allows. */
  | 'resendLimit'
  /** Auto-extend was changed as often as the operator allows. */
  | 'autoExtendLimit'
  /** A subscription completion with no request pending: never asked, already completed, withdrawn or past its deadline. */
  | 'noSubscriptionRequest'
  /** A trial completion with no request pending: never asked (not the partner's to provision), already completed, withdrawn or past its deadline. */
  | 'noTrialRequest';

export interface StepRefusal {
  reason: RefusalReason;
  status: RelationshipState['status'];
  message: string;
  /** Set for a cooldown: when the step will be allowed again. */
  retryAfterSeconds?: number;
}
