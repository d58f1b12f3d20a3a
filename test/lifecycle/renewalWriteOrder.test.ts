import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import { acceptUpdate, getStateQuery, terminateUpdate } from '../../src/contract/messages.js';
import { defaultPolicy } from '../../src/contract/policy.js';
import { relationshipWorkflowId, type RelationshipOffer } from '../../src/contract/relationship.js';
import { PartnerIdKey, RelationshipStatusKey, TenantDomainKey } from '../../src/contract/searchAttributes.js';
import { sharedBundle } from '../support/testSystem.js';
import { waitFor } from '../support/waitFor.js';

// The race the chaos of test/lifecycle/races.test.ts found now and then (seed 1992834453): a
// partner terminates while the workflow writes a renewal. The terminate's write used to run beside
// the renewal's and could commit first, so the audit trail showed `renewed` after `terminated`.
// Here the renewal's write is held open until the terminate has been accepted, every time: the
// workflow must write the end only after the renewal.

const taskQueue = `test-renewal-order-${randomUUID().slice(0, 8)}`;
const writes: string[] = [];
let releaseRenewal: () => void = () => undefined;
const renewalHeld = new Promise<void>((resolve) => {
  releaseRenewal = resolve;
});

const done = (): Promise<void> => Promise.resolve();
const activities: Activities = {
  recordTransition: ({ transition }) => Promise.resolve(void writes.push(transition.to)),
  recordTransitions: ({ transitions }) => Promise.resolve(void writes.push(...transitions.map((t) => t.to))),
  async recordRenewal({ renewal }) {
    writes.push(`renewal ${renewal} started`);
    await renewalHeld;
    writes.push(`renewal ${renewal}`);
  },
  recordAutoExtend: done,
  recordTrialFailure: done,
  recordInvitationUndeliverable: done,
  issueInvitation: ({ invitationId }) => Promise.resolve({ invitationId }),
  provisionTrial: () => Promise.reject(new Error('no trial here')),
  notify: done,
  cancelTrial: done,
  recordSubscription: done,
  recordTrialStep: done,
  provisionLocalSubscription: () => Promise.reject(new Error('no purchase here')),
  reconcileGrantsPage: () => Promise.resolve({ checked: 0, revoked: [] }),
  withdrawOrphanedInvitationsPage: () => Promise.resolve({ checked: 0, withdrawn: [] }),
};

let worker: Worker;
let running: Promise<void>;
let workerConnection: NativeConnection;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  workerConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
  worker = await Worker.create({ connection: workerConnection, namespace: 'default', taskQueue, workflowBundle: await sharedBundle(), activities });
  running = worker.run();
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: 'default' });
});

afterAll(async () => {
  releaseRenewal();
  worker.shutdown();
  await running;
  await workerConnection.close();
  await connection.close();
});

describe('a terminate accepted while a renewal is written', () => {
  it('is written after the renewal', { timeout: 60_000 }, async () => {
    const relationshipId = randomUUID();
    const tenantDomain = `renewal-order-${relationshipId.slice(0, 8)}.example.com`;
    const partnerId = randomUUID();
    const offer: RelationshipOffer = {
      relationshipId,
      partnerId,
      partnerName: 'Renewal Order',
      tenantDomain,
      customerAdminEmail: `admin@${tenantDomain}`,
      roles: ['user-administrator'],
      autoExtend: true,
      policy: { ...defaultPolicy, durationMs: 2_000, autoExtendByMs: 2_000, warningsBeforeEndMs: [] },
    };
    const handle = await client.workflow.start('relationshipWorkflow', {
      taskQueue,
      workflowId: relationshipWorkflowId(relationshipId),
      args: [{ offer }],
      typedSearchAttributes: [
        { key: RelationshipStatusKey, value: 'invited' },
        { key: PartnerIdKey, value: partnerId },
        { key: TenantDomainKey, value: tenantDomain },
      ],
    });
    const invitationId = await waitFor(async () => (await handle.query(getStateQuery)).invitation.validIds[0], { what: 'the invitation' });
    const customer = { type: 'customer' as const, id: offer.customerAdminEmail };
    await handle.executeUpdate(acceptUpdate, { args: [{ invitationId, actor: customer, startTrial: false }] });

    await waitFor(() => writes.includes('renewal 1 started'), { what: 'the renewal being written' });
    const terminated = handle.executeUpdate(terminateUpdate, { args: [{ actor: { type: 'partner', id: partnerId } }] });
    // The workflow task that accepted the terminate has completed: what it scheduled is in the history.
    const scheduledWithTerminate = await waitFor(
      async () => {
        const events = (await handle.fetchHistory()).events ?? [];
        const accepted = events.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'terminate');
        return accepted < 0 ? undefined : events.slice(accepted).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
      },
      { what: 'the terminate accepted' },
    );
    // A write scheduled beside the held renewal (the old order) runs at once: let it land, so the check below sees it.
    if (scheduledWithTerminate.includes('recordTransition')) await waitFor(() => writes.includes('terminated'), { what: 'the end written' });
    releaseRenewal();
    expect((await terminated).status).toBe('terminated');
    await handle.result().catch(() => undefined);
    const end = writes.indexOf('terminated');
    expect(end, writes.join(', ')).toBeGreaterThan(writes.indexOf('renewal 1'));
    expect(writes.indexOf('renewal 1'), writes.join(', ')).toBeGreaterThan(-1);
  });
});
