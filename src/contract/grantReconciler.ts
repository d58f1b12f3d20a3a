// The grant reconciler: a workflow run on a Temporal Schedule that revokes grants
// whose relationship workflow no longer runs (src/workflows/grantReconcilerWorkflow.ts).

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
}

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
}
