import { ApplicationFailure } from '@temporalio/workflow';
import { STEP_REFUSED, type RefusalReason, type StepRefusal } from '../contract/messages.js';
import { operatorLimitsOf, type RelationshipPolicy } from '../contract/policy.js';
import type { RelationshipState } from '../contract/relationship.js';
import type { RelationshipStatus } from '../contract/statuses.js';
import { isEnded } from '../contract/statuses.js';

// Validators throw these before anything reaches history; the API maps the
// reason to an HTTP status without parsing messages.

function refuse(state: RelationshipState, reason: RefusalReason, message: string, retryAfterSeconds?: number): never {
  const refusal: StepRefusal = { reason, status: state.status, message, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
  throw ApplicationFailure.create({ type: STEP_REFUSED, message, details: [refusal], nonRetryable: true });
}

export function requireStatus(state: RelationshipState, allowed: readonly RelationshipStatus[], step: string): void {
  if (allowed.includes(state.status)) return;
  if (isEnded(state.status)) refuse(state, 'alreadyEnded', `Cannot ${step}: the relationship has ended (${state.status}).`);
  refuse(state, 'invalidState', `Cannot ${step} while the relationship is ${state.status}.`);
}

/** An invitation link may be answered once, while invited, and only if no resend replaced it. */
export function requireOpenInvitation(state: RelationshipState, invitationId: string): void {
  if (state.status === 'invitationExpired') refuse(state, 'invitationExpired', 'This invitation has expired.');
  if (state.status !== 'invited') {
    refuse(state, 'invitationUsed', `This invitation was already answered (the relationship is ${state.status}).`);
  }
  if (!state.invitation.validIds.includes(invitationId)) {
    refuse(state, 'invitationSuperseded', 'This link was replaced by a newer invitation.');
  }
}

/**
 * A resend emails the customer, so it is capped per invitation and spaced by a
 * cooldown that runs from the last invitation sent (the offer, or the last resend).
 */
export function requireResendAllowed(state: RelationshipState, policy: RelationshipPolicy, nowMs: number): void {
  const { resendsPerInvitation, resendCooldownMs } = operatorLimitsOf(policy);
  if (state.invitation.round >= resendsPerInvitation) {
    refuse(state, 'resendLimit', `This invitation was already sent again ${state.invitation.round} times, the most allowed (${resendsPerInvitation}).`);
  }
  const lastSent = Date.parse(state.invitation.resentAt ?? state.transitions[0]?.at ?? '');
  const waitMs = Number.isFinite(lastSent) ? lastSent + resendCooldownMs - nowMs : 0;
  if (waitMs > 0) {
    const seconds = Math.ceil(waitMs / 1000);
    refuse(state, 'resendCooldown', `The invitation was sent recently; it can be sent again in ${seconds} s.`, seconds);
  }
}

/** Each change of auto-extend is audited (and may be told), so a relationship gets a bounded number of them. */
export function requireAutoExtendChangeAllowed(state: RelationshipState, policy: RelationshipPolicy): void {
  const { autoExtendChangesPerRelationship } = operatorLimitsOf(policy);
  const changes = state.autoExtendChanges ?? 0;
  if (changes >= autoExtendChangesPerRelationship) {
    refuse(state, 'autoExtendLimit', `Auto-extend was already changed ${changes} times, the most allowed (${autoExtendChangesPerRelationship}).`);
  }
}

/** What the partner's system was asked to create (a subscription, a trial), as the workflow holds it. */
interface PartnerRequest {
  status: string;
  requestedAt?: string;
  deadlineAt?: string;
  externalRef?: string;
  failureReason?: string;
}

interface RequestRefusals {
  reason: 'noSubscriptionRequest' | 'noTrialRequest';
  what: 'subscription' | 'trial';
  /** Why nothing was asked, for the states in which the partner's system never is. */
  notAsked: Partial<Record<string, string>>;
  /** Why nothing was asked yet (or ever) when no request went out. */
  notSent: string;
}

/**
 * A completion is taken once, for a request that was sent, before its deadline, while the
 * relationship lives. Anything else changes nothing and says why (docs/commerce.md).
 */
function requirePendingRequest(state: RelationshipState, request: PartnerRequest | undefined, refusals: RequestRefusals, nowMs: number): void {
  const { what } = refusals;
  const refuseWith: (message: string) => never = (message) => refuse(state, refusals.reason, message);
  if (!request) refuseWith(`This relationship has no ${what === 'subscription' ? 'purchase offer' : 'trial'}: there is no ${what} to complete.`);
  const notAsked = refusals.notAsked[request.status];
  if (notAsked) refuseWith(notAsked);
  if (!request.requestedAt) refuseWith(refusals.notSent);
  if (request.status === 'active') refuseWith(`The ${what} was already completed (active, ${request.externalRef ?? 'no reference'}); a second completion changes nothing.`);
  if (request.status === 'failed') refuseWith(`The ${what} was already marked failed (${request.failureReason ?? 'no reason'}); a later completion changes nothing.`);
  if (request.status === 'cancelled') refuseWith(`The request was withdrawn: the relationship ended before it was completed. Do not create the ${what}.`);
  if (isEnded(state.status)) refuseWith(`The request was withdrawn: the relationship has ended (${state.status}).`);
  if (request.deadlineAt && nowMs >= Date.parse(request.deadlineAt)) refuseWith(`Too late: the deadline for completing this request passed at ${request.deadlineAt}.`);
}

export function requireSubscriptionRequest(state: RelationshipState, nowMs: number): void {
  requirePendingRequest(
    state,
    state.subscription,
    {
      reason: 'noSubscriptionRequest',
      what: 'subscription',
      notAsked: {
        offered: 'The customer has not answered the purchase offer yet: no subscription was requested.',
        declined: 'The customer continued without the purchase: no subscription was requested.',
      },
      notSent: 'No request was sent yet: the subscription is requested once the relationship is active.',
    },
    nowMs,
  );
}

export function requireTrialRequest(state: RelationshipState, nowMs: number): void {
  requirePendingRequest(
    state,
    state.trial,
    {
      reason: 'noTrialRequest',
      what: 'trial',
      notAsked: { skipped: 'The customer did not take the trial: no trial was requested.' },
      notSent: "No trial request was sent to your system: a trial is requested once the relationship is active, and only from a partner whose own system provisions (otherwise the deployment's provider makes it).",
    },
    nowMs,
  );
}
