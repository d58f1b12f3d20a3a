import type { Client } from '@temporalio/client';
import type { Database } from '../infra/database.js';
import type { MailOutbox } from '../mail/mailOutbox.js';
import type { WebhookOutbox } from '../webhooks/webhookOutbox.js';
import { createGrantReconciliationActivities } from './grantReconciliation.js';
import { createInvitationActivities } from './issueInvitation.js';
import { createNotifyActivities } from './notify.js';
import { withPermanentFailuresTyped } from './permanentFailures.js';
import { createPartnerTrialActivities } from './partnerTrials.js';
import { createReadModelActivities } from './readModel.js';
import { createSubscriptionActivities } from './subscriptions.js';
import { createTrialCancellationActivities } from './trialCancellation.js';
import { createTrialActivities, type TrialProvisioner } from './trialProvisioning.js';

export type { NotificationEvent } from './notify.js';

export interface ActivityDependencies {
  db: Database;
  mail: MailOutbox;
  webhooks: WebhookOutbox;
  trialProvisioner: TrialProvisioner;
  /** Invitation tokens are derived from it (by the mail worker too), never stored. */
  linkSecret: string;
  /** The grant reconciler asks it whether a relationship's workflow still runs. */
  temporal: Client;
  /** Where the partner API is reached: a subscription request names the URL that completes it. */
  publicBaseUrl: string;
}

/** Every activity, closed over its dependencies; workflows import only the type. */
export function createActivities(deps: ActivityDependencies) {
  return withPermanentFailuresTyped(deps.db, {
    ...createReadModelActivities(deps.db, deps.webhooks),
    ...createInvitationActivities(deps.db, deps.mail, deps.linkSecret),
    ...createTrialActivities(deps.db, deps.trialProvisioner),
    ...createTrialCancellationActivities(deps.db, deps.trialProvisioner),
    ...createSubscriptionActivities(deps.db, deps.webhooks, deps.publicBaseUrl),
    ...createPartnerTrialActivities(deps.db, deps.webhooks, deps.publicBaseUrl),
    ...createNotifyActivities(deps.db, deps.mail),
    ...createGrantReconciliationActivities(deps.db, deps.temporal),
  });
}

export type Activities = ReturnType<typeof createActivities>;
