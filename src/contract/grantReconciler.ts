// The grant reconciler: a workflow run on a Temporal Schedule that revokes grants
// whose relationship workflow no longer runs, and withdraws invitations whose
// workflow no longer runs or never started (src/workflows/grantReconcilerWorkflow.ts).

export const GRANT_RECONCILER_WORKFLOW = 'grantReconcilerWorkflow';

/** The schedule's id names the task queue, so deployments sharing a namespace each keep their own. */
export const grantReconcilerScheduleId = (taskQueue: string) => `grant-reconciler-${taskQueue}`;

export interface GrantReconcilerInput {
  /** Relationships described per activity call. */
  pageSize: number;
  /** Only this partner's grants (an operator's targeted pass; tests). */
  partnerId?: string;
  /** Where a run that continued as new resumes. */
  after?: string;
  /** Invitations younger than this (ms) are left alone: their workflow may be starting right now. Default 5 minutes. */
  invitationGraceMs?: number;
}

/** An offer saved a moment ago may still be starting its workflow; older than this, a missing one will not come. */
export const DEFAULT_INVITATION_GRACE_MS = 300_000;

export interface GrantReconcilePageInput {
  pageSize: number;
  partnerId?: string;
  after?: string;
}

export interface GrantReconcilePage {
  /** Relationships holding grants that were looked at. */
  checked: number;
  /** Those whose grants were revoked. */
  revoked: string[];
  /** The cursor of the next page; absent on the last. */
  next?: string;
}

export interface GrantReconcilerResult {
  checked: number;
  revoked: string[];
  /** Invitations withdrawn because their workflow no longer runs or never started (absent in runs before that pass existed). */
  withdrawn?: string[];
}

export interface OrphanedInvitationsPageInput {
  pageSize: number;
  partnerId?: string;
  after?: string;
  /** Only invitations created before this instant (ISO 8601). */
  createdBefore: string;
}

export interface OrphanedInvitationsPage {
  checked: number;
  withdrawn: string[];
  next?: string;
}
