import { continueAsNew, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { permanentActivityFailureTypes } from '../contract/activityFailures.js';
import { DEFAULT_INVITATION_GRACE_MS, type GrantReconcilerInput, type GrantReconcilerResult } from '../contract/grantReconciler.js';

const { reconcileGrantsPage, withdrawOrphanedInvitationsPage } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  // A pass that cannot finish (Temporal or the database down) gives up; the schedule starts the next.
  scheduleToCloseTimeout: '30m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: permanentActivityFailureTypes },
});

/**
 * An invitation whose workflow is gone, closed, or never started (the API stopped between saving
 * the offer and starting it) is withdrawn: nobody could answer it, and it blocked a new offer.
 */
const ORPHANED_INVITATIONS_WITHDRAWN = 'orphaned-invitations-withdrawn';

/** One pass over every relationship that holds grants, then every invitation, a page per activity. */
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
  if (!patched(ORPHANED_INVITATIONS_WITHDRAWN)) return result;
  const withdrawn: string[] = [];
  const createdBefore = new Date(Date.now() - (input.invitationGraceMs ?? DEFAULT_INVITATION_GRACE_MS)).toISOString();
  let cursor: string | undefined;
  do {
    const page = await withdrawOrphanedInvitationsPage({ pageSize: input.pageSize, createdBefore, ...(input.partnerId ? { partnerId: input.partnerId } : {}), ...(cursor ? { after: cursor } : {}) });
    withdrawn.push(...page.withdrawn);
    cursor = page.next;
  } while (cursor);
  return { ...result, withdrawn };
}
