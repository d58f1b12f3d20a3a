import { randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import { acceptUpdate, getStateQuery, setAutoExtendUpdate, terminateUpdate } from '../../src/contract/messages.js';
import { defaultPolicy } from '../../src/contract/policy.js';
import { relationshipWorkflowId, type RelationshipOffer } from '../../src/contract/relationship.js';
import { PartnerIdKey, RelationshipStatusKey, TenantDomainKey } from '../../src/contract/searchAttributes.js';
import type { relationshipWorkflow } from '../../src/workflows/index.js';
import { sharedBundle } from '../support/testSystem.js';
import { waitFor } from '../support/waitFor.js';

// A write of the read model that is not a transition's (a renewal, an auto-extend change) must
// not be overtaken by a transition decided while it is written. The race the chaos of
// test/lifecycle/races.test.ts found now and then (seed 1992834453): a partner terminates while
// the workflow writes a renewal; the terminate's write ran beside the renewal's and could commit
// first, so the audit trail showed `renewed` after `terminated`. The auto-extend change had the
// same race, and the transition's snapshot could also overwrite the newer auto-extend value.
// Here each such write is held open until the terminate has been accepted, every time: the
// workflow must write the end only after it.

const taskQueue = `test-write-order-${randomUUID().slice(0, 8)}`;
/** What each run's activities wrote, in order, by workflow id. */
const writes = new Map<string, string[]>();
const wrote = (workflowId: string, entry: string): void => void writes.set(workflowId, [...(writes.get(workflowId) ?? []), entry]);
const writesOf = (workflowId: string) => writes.get(workflowId) ?? [];

function gate() {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { held, release };
}
const renewal = gate();
const autoExtend = gate();

const done = (): Promise<void> => Promise.resolve();
const activities: Activities = {
  recordTransition: ({ workflowId, transition }) => Promise.resolve(wrote(workflowId, transition.to)),
  recordTransitions: ({ workflowId, transitions }) => Promise.resolve(transitions.forEach((t) => wrote(workflowId, t.to))),
  async recordRenewal({ workflowId, renewal: n }) {
    wrote(workflowId, `renewal ${n} started`);
    await renewal.held;
    wrote(workflowId, `renewal ${n}`);
  },
  async recordAutoExtend({ workflowId, autoExtend: on }) {
    wrote(workflowId, `auto-extend ${on ? 'on' : 'off'} started`);
    await autoExtend.held;
    wrote(workflowId, `auto-extend ${on ? 'on' : 'off'}`);
  },
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
  renewal.release();
  autoExtend.release();
  worker.shutdown();
  await running;
  await workerConnection.close();
  await connection.close();
});

/** An active relationship of its own, accepted by its customer. */
async function activeRelationship(policy: Partial<RelationshipOffer['policy']>, autoExtendOffered: boolean) {
  const relationshipId = randomUUID();
  const tenantDomain = `write-order-${relationshipId.slice(0, 8)}.example.com`;
  const partnerId = randomUUID();
  const offer: RelationshipOffer = {
    relationshipId,
    partnerId,
    partnerName: 'Write Order',
    tenantDomain,
    customerAdminEmail: `admin@${tenantDomain}`,
    roles: ['user-administrator'],
    autoExtend: autoExtendOffered,
    policy: { ...defaultPolicy, ...policy },
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
  return { handle, partnerId, customer };
}

/**
 * Terminates while a held write is open, then lets it go: the writes in the order they landed.
 * A terminate written beside the held write (the old order) lands at once; it is waited for, so the
 * check sees it.
 */
async function terminateDuring(handle: WorkflowHandle<typeof relationshipWorkflow>, partnerId: string, release: () => void): Promise<string[]> {
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
  if (scheduledWithTerminate.includes('recordTransition')) await waitFor(() => writesOf(handle.workflowId).includes('terminated'), { what: 'the end written' });
  release();
  expect((await terminated).status).toBe('terminated');
  await handle.result().catch(() => undefined);
  return writesOf(handle.workflowId);
}

describe('a terminate accepted while another write of the read model is open', () => {
  it('is written after a renewal', { timeout: 60_000 }, async () => {
    const { handle, partnerId } = await activeRelationship({ durationMs: 2_000, autoExtendByMs: 2_000, warningsBeforeEndMs: [] }, true);
    await waitFor(() => writesOf(handle.workflowId).includes('renewal 1 started'), { what: 'the renewal being written' });
    const order = await terminateDuring(handle, partnerId, renewal.release);
    expect(order.indexOf('renewal 1'), order.join(', ')).toBeGreaterThan(-1);
    expect(order.indexOf('terminated'), order.join(', ')).toBeGreaterThan(order.indexOf('renewal 1'));
  });

  it('is written after an auto-extend change', { timeout: 60_000 }, async () => {
    const { handle, partnerId, customer } = await activeRelationship({ durationMs: 3_600_000 }, false);
    const changed = handle.executeUpdate(setAutoExtendUpdate, { args: [{ actor: customer, autoExtend: true }] });
    await waitFor(() => writesOf(handle.workflowId).includes('auto-extend on started'), { what: 'the auto-extend change being written' });
    const order = await terminateDuring(handle, partnerId, autoExtend.release);
    await changed;
    expect(order.indexOf('auto-extend on'), order.join(', ')).toBeGreaterThan(-1);
    expect(order.indexOf('terminated'), order.join(', ')).toBeGreaterThan(order.indexOf('auto-extend on'));
  });
});
