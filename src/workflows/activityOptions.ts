import { proxyActivities, type ActivityOptions, type RetryPolicy } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { permanentActivityFailureTypes } from '../contract/activityFailures.js';

// Each group of activities has its own budget. When a budget runs out (or an
// activity fails with a permanent type), the failure reaches the workflow:
// notifications are given up with a warning in the log, anything else fails the
// run visibly (Failed in the Web UI) and the grant reconciler revokes what it held.

const retry: RetryPolicy = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: permanentActivityFailureTypes };

/** Read model and audit writes: a database outage of hours is waited out; a missing row is not. */
const readModel: ActivityOptions = { startToCloseTimeout: '30s', scheduleToCloseTimeout: '1d', retry };

/** Invitations and notifications (outbox rows and queue jobs): an email an hour late is still worth sending. */
const messages: ActivityOptions = { startToCloseTimeout: '30s', scheduleToCloseTimeout: '1h', retry };

/** Undoing a trial must outlast a provider outage: it is retried for a week. */
const compensation: ActivityOptions = { startToCloseTimeout: '1m', scheduleToCloseTimeout: '7d', retry };

export function relationshipActivities() {
  return {
    readModel: proxyActivities<Activities>(readModel),
    messages: proxyActivities<Activities>(messages),
    compensation: proxyActivities<Activities>(compensation),
    /**
     * A failing provider is tried `trialProvisioningAttempts` times, then the trial is marked failed:
     * the activity counts the provider's failures itself (provisionTrial's `providerAttempts`), so a
     * database outage retried within the hour does not use them up.
     */
    trial: proxyActivities<Activities>({
      startToCloseTimeout: '1m',
      scheduleToCloseTimeout: '1h',
      retry: { ...retry, initialInterval: '1s' },
    }),
  };
}
