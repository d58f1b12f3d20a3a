import { condition, defineQuery, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';

// The Temporal ceiling of issue 13, run on the same dev server as the system:
// what the server and one SDK worker allow with no work behind the activities.
// Bundled by bench/support/ceilingSystem.ts; the activities there do nothing.

export interface CeilingActivities {
  noop(): Promise<void>;
}

// The product's own default (src/workflows/activityOptions.ts) is about retries, not speed; a
// no-op never fails, so only the timeout is needed here.
const { noop } = proxyActivities<CeilingActivities>({ startToCloseTimeout: '1 minute' });

/** A plain workflow: one no-op activity, then done. */
export async function plainWorkflow(): Promise<void> {
  await noop();
}

export const shapeAcceptUpdate = defineUpdate<void>('accept');
/** True once the invitation activity is done: the accept is sent to a workflow that waits for it, as a customer's is. */
export const shapeInvitedQuery = defineQuery<boolean>('invited');

/**
 * The minimal onboarding shape: start, one activity (the invitation), an accept
 * Update that returns as soon as it is applied, two activities (the transition
 * and its read model), done. The least any onboarding can cost the server.
 */
export async function minimalOnboardingWorkflow(): Promise<void> {
  let accepted = false;
  let invited = false;
  setHandler(shapeAcceptUpdate, () => {
    accepted = true;
  });
  setHandler(shapeInvitedQuery, () => invited);
  await noop();
  invited = true;
  await condition(() => accepted);
  await noop();
  await noop();
}
