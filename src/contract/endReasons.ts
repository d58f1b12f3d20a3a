import type { Actor } from './relationship.js';

// Why a relationship ended when no partner or customer ended it: the reasons the
// workflow and the grant reconciler write into transitions, the read model and the audit log.

/** Who ends a relationship whose workflow an operator cancelled (Web UI "Request Cancellation", CLI, client). */
export const cancellingOperator: Actor = { type: 'operator', id: 'temporal-cancellation' };

export const CANCELLED_REASON = 'cancelled: an operator cancelled the relationship workflow';

/** The grant reconciler's reason; the workflow's closing status (TERMINATED, FAILED, …, or missing) follows it. */
export const reconciledReason = (workflowStatus: string) =>
  `reconciled: the relationship workflow is ${workflowStatus} and its grants were still held`;

/** The audit action of a grant revoked by the reconciler rather than by the workflow. */
export const RECONCILED_REVOKE_ACTION = 'grant.reconciledRevoke';

/** The reconciler's reason for an invitation whose workflow no longer runs (or never started: the API stopped between saving the offer and starting it). */
export const orphanedInvitationReason = (workflowStatus: string) =>
  `reconciled: the invitation's workflow is ${workflowStatus}, so nobody could answer it; withdrawn by the system`;
