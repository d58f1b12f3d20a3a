import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowUpdateStage } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { RecordSubscriptionInput } from '../../src/activities/subscriptions.js';
import { acceptUpdate, completeSubscriptionUpdate, getStateQuery } from '../../src/contract/messages.js';
import { defaultPolicy } from '../../src/contract/policy.js';
import { relationshipWorkflowId, type RelationshipOffer } from '../../src/contract/relationship.js';
import type { relationshipWorkflow } from '../../src/workflows/relationshipWorkflow.js';
import { sharedBundle } from '../support/testSystem.js';
import { waitFor } from '../support/waitFor.js';

// The order of a request and its completion, made certain with activities the test
// controls: a completion taken while `subscription.requested` is still being written
// (a partner that guessed ahead of the webhook) must not write `active` before it, or
// the row and the webhooks would go back to `requested` afterwards.

describe('a completion racing its own request', () => {
  const taskQueue = `test-request-order-${randomUUID()}`;
  const steps: string[] = [];
  let releaseRequested: () => void = () => undefined;
  const requestedWritten = new Promise<void>((resolve) => (releaseRequested = resolve));
  const done = () => Promise.resolve();
  const activities = {
    recordTransition: done,
    recordTransitions: done,
    notify: done,
    issueInvitation: done,
    async recordSubscription({ step }: RecordSubscriptionInput) {
      steps.push(`${step} started`);
      if (step === 'requested') await requestedWritten;
      steps.push(`${step} written`);
    },
  };
  let worker: Worker;
  let running: Promise<void>;
  let client: Client;
  let connection: Connection;

  beforeAll(async () => {
    worker = await Worker.create({
      connection: await NativeConnection.connect({ address: inject('temporalAddress') }),
      taskQueue,
      workflowBundle: await sharedBundle(),
      activities,
    });
    running = worker.run();
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection });
  }, 120_000);

  afterAll(async () => {
    worker.shutdown();
    await running;
    await connection.close();
  });

  it('is taken, but its `active` is written only after `requested`', async () => {
    const id = randomUUID();
    const offer: RelationshipOffer = {
      relationshipId: id,
      partnerId: randomUUID(),
      partnerName: 'Early Partner',
      tenantDomain: `early-${id.slice(0, 8)}.example.com`,
      customerAdminEmail: 'admin@early.example.com',
      roles: ['user-administrator'],
      autoExtend: false,
      purchase: { product: 'Business Premium', seats: 2, term: 'P1M', pricePerSeat: { amount: '1.00', currency: 'EUR' }, autoRenew: false },
      provisioning: { by: 'partner', deadlineSeconds: 600 },
      policy: defaultPolicy,
    };
    const handle = await client.workflow.start<typeof relationshipWorkflow>('relationshipWorkflow', { taskQueue, workflowId: relationshipWorkflowId(id), args: [{ offer }] });
    try {
      const invitationId = await waitFor(async () => (await handle.query(getStateQuery)).invitation.validIds[0], { what: 'the invitation id' });
      await handle.executeUpdate(acceptUpdate, { args: [{ invitationId, actor: { type: 'customer', id: 'admin@early.example.com' }, startTrial: false, purchaseConfirmed: true }] });
      await waitFor(() => steps.includes('requested started') || undefined, { what: 'the request being written' });

      const completion = await handle.startUpdate(completeSubscriptionUpdate, {
        args: [{ actor: { type: 'partner', id: offer.partnerId }, completion: { status: 'active', externalRef: 'SUB-EARLY' } }],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
      // The task that accepted the update has completed: whatever it scheduled is pending now.
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      expect(pending.map((a) => a.activityType?.name)).toEqual(['recordSubscription']);
      expect(steps).toEqual(['agreed started', 'agreed written', 'requested started']);

      releaseRequested();
      expect((await completion.result()).subscription).toMatchObject({ status: 'active', externalRef: 'SUB-EARLY' });
      expect(steps).toEqual(['agreed started', 'agreed written', 'requested started', 'requested written', 'active started', 'active written']);
    } finally {
      releaseRequested();
      await handle.terminate('test over');
    }
  });
});
