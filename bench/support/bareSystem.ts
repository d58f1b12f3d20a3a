import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowIdReusePolicy } from '@temporalio/client';
import { NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Activities } from '../../src/activities/index.js';
import { acceptUpdate, getStateQuery } from '../../src/contract/messages.js';
import { defaultPolicy } from '../../src/contract/policy.js';
import { relationshipWorkflowId, type RelationshipOffer } from '../../src/contract/relationship.js';
import { PartnerIdKey, RelationshipStatusKey, TenantDomainKey } from '../../src/contract/searchAttributes.js';
import type { relationshipWorkflow } from '../../src/workflows/relationshipWorkflow.js';
import type { BenchEnvironment } from './benchEnvironment.js';
import type { Cleanup } from './cleanup.js';
import { legTimer, type OnboardingSystem } from './onboardingSystem.js';
import { pollUntil } from './stats.js';

const done = (): Promise<void> => Promise.resolve();

/**
 * Every activity the workflow calls, doing nothing: what the workflow costs on
 * the Temporal server with no database, queue or mail behind it. Typed as
 * `Activities`, so a new or changed activity breaks this file, not the baseline.
 */
export const noOpActivities: Activities = {
  recordTransition: done,
  recordTransitions: done,
  recordRenewal: done,
  recordAutoExtend: done,
  recordTrialFailure: done,
  recordInvitationUndeliverable: done,
  issueInvitation: ({ workflowId, step }) => Promise.resolve({ invitationId: `invitation-${workflowId}-${step}` }),
  provisionTrial: ({ workflowId }) => Promise.resolve({ externalRef: `trial-${workflowId}`, endsAt: new Date().toISOString() }),
  notify: done,
  cancelTrial: done,
  recordSubscription: done,
  recordTrialStep: done,
  provisionLocalSubscription: ({ workflowId }) => Promise.resolve({ externalRef: `subscription-${workflowId}` }),
  reconcileGrantsPage: () => Promise.resolve({ checked: 0, revoked: [] }),
  withdrawOrphanedInvitationsPage: () => Promise.resolve({ checked: 0, withdrawn: [] }),
};

export interface BareSystemSettings {
  workflowBundle: WorkflowBundleWithSourceMap;
  pollMs: number;
  stepTimeoutMs: number;
}

/**
 * The same relationshipWorkflow (same bundle) on its own task queue with
 * no-op activities, driven straight through the Temporal client: start, query
 * until the invitation id is known, accept by update, query until active.
 */
export async function startBareSystem(env: BenchEnvironment, cleanup: Cleanup, settings: BareSystemSettings): Promise<OnboardingSystem & { client: Client }> {
  const taskQueue = `bench-bare-${env.runId}`;
  const workerConnection = await NativeConnection.connect({ address: env.temporalAddress });
  cleanup.defer('close the bare worker connection', () => workerConnection.close());
  const worker = await Worker.create({
    connection: workerConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle: settings.workflowBundle,
    activities: noOpActivities,
  });
  const running = worker.run();
  cleanup.defer('stop the bare worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });

  const connection = await Connection.connect({ address: env.temporalAddress });
  cleanup.defer('close the bare client connection', () => connection.close());
  const client = new Client({ connection, namespace: 'default' });

  return {
    name: 'bare workflow',
    client,
    async onboard(index) {
      const tenantDomain = `b${index}-${env.runId}.bench.example.com`;
      const partnerId = randomUUID();
      const offer: RelationshipOffer = {
        relationshipId: randomUUID(),
        partnerId,
        partnerName: `Bench Partner ${index}`,
        tenantDomain,
        customerAdminEmail: `admin@${tenantDomain}`,
        customerName: `Customer ${index}`,
        roles: ['user-administrator', 'license-administrator'],
        terms: 'We manage your users and licenses during business hours.',
        autoExtend: false,
        policy: defaultPolicy,
      };
      const timer = legTimer();
      // Started as relationshipService.createOffer starts it: same id form, reuse policy and search attributes.
      const handle = await client.workflow.start<typeof relationshipWorkflow>('relationshipWorkflow', {
        taskQueue,
        workflowId: relationshipWorkflowId(offer.relationshipId),
        args: [{ offer }],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [
          { key: RelationshipStatusKey, value: 'invited' },
          { key: PartnerIdKey, value: partnerId },
          { key: TenantDomainKey, value: tenantDomain },
        ],
        staticSummary: `${offer.partnerName} → ${tenantDomain}`,
      });

      timer.lap('start workflow');
      const invitationId = await pollUntil('the invitation id', settings.pollMs, settings.stepTimeoutMs, async () => {
        const state = await handle.query(getStateQuery);
        return state.invitation.validIds[0];
      });

      const acceptSent = timer.lap('→ invitation id by query');
      await handle.executeUpdate(acceptUpdate, { args: [{ invitationId, actor: { type: 'customer', id: offer.customerAdminEmail }, startTrial: false }] });
      timer.lap('accept (update)');
      await pollUntil('status active by query', settings.pollMs, settings.stepTimeoutMs, async () =>
        (await handle.query(getStateQuery)).status === 'active' ? true : undefined,
      );
      const activeSeen = timer.lap('→ query shows active');
      return { acceptToActiveMs: activeSeen - acceptSent, legs: timer.legs, workflowId: handle.workflowId };
    },
  };
}
