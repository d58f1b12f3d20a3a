import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { permanentActivityFailureTypes } from '../contract/activityFailures.js';
import type { GrantReconcilerInput, GrantReconcilerResult } from '../contract/grantReconciler.js';

const { reconcileGrantsPage } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  // A pass that cannot finish (Temporal or the database down) gives up; the schedule starts the next.
  scheduleToCloseTimeout: '30m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: permanentActivityFailureTypes },
});

/** One pass over every relationship that holds grants, a page per activity. */
export async function grantReconcilerWorkflow(input: GrantReconcilerInput): Promise<GrantReconcilerResult> {
  const result: GrantReconcilerResult = { checked: 0, revoked: [] };
  let after = input.after;
  do {
    const page = await reconcileGrantsPage({ pageSize: input.pageSize, ...(input.partnerId ? { partnerId: input.partnerId } : {}), ...(after ? { after } : {}) });
    result.checked += page.checked;
    result.revoked.push(...page.revoked);
    after = page.next;
    // A pass over very many relationships keeps a bounded history.
    if (after && workflowInfo().continueAsNewSuggested) return continueAsNew<typeof grantReconcilerWorkflow>({ ...input, after });
  } while (after);
  return result;
}
