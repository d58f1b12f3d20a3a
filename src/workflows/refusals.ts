import { ApplicationFailure } from '@temporalio/workflow';
import { STEP_REFUSED, type RefusalReason, type StepRefusal } from '../contract/messages.js';
import type { RelationshipState } from '../contract/relationship.js';
import type { RelationshipStatus } from '../contract/statuses.js';
import { isEnded } from '../contract/statuses.js';

// Validators throw these before anything reaches history; the API maps the
// reason to an HTTP status without parsing messages.

function refuse(state: RelationshipState, reason: RefusalReason, message: string): never {
  const refusal: StepRefusal = { reason, status: state.status, message };
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
