import { randomUUID } from 'node:crypto';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { TrialProvisioner } from '../../src/activities/trialProvisioning.js';
import { permanentActivityFailures } from '../../src/contract/activityFailures.js';
import { CANCELLED_REASON, RECONCILED_REVOKE_ACTION } from '../../src/contract/endReasons.js';
import { grantReconcilerScheduleId, type GrantReconcilerInput } from '../../src/contract/grantReconciler.js';
import { acceptUpdate, invitationUndeliverableSignal, removeUpdate } from '../../src/contract/messages.js';
import { defaultPolicy } from '../../src/contract/policy.js';
import { relationshipWorkflowId, type RelationshipOffer } from '../../src/contract/relationship.js';
import { ensureGrantReconcilerSchedule } from '../../src/relationships/grantReconcilerSchedule.js';
import type { grantReconcilerWorkflow } from '../../src/workflows/grantReconcilerWorkflow.js';
import type { relationshipWorkflow } from '../../src/workflows/relationshipWorkflow.js';
import { recordHistory } from '../support/historyRecorder.js';
import {
  access,
  answer,
  customer,
  deliveredOffer,
  expectAuditPath,
  newPartner,
  newParties,
  offer,
  onboardActiveRelationship,
  readModel,
  stateOf,
  waitFor,
  waitForStatus,
} from '../support/relationshipDriver.js';
import type { TestSystem } from '../support/testSystem.js';
import { useTestSystem } from '../support/useTestSystem.js';

// Issue 12: the paths where a fault or an operator's action left a wrong state.
// Each test failed on the code before its fix (see the comment on each).

const ROLES = ['user-administrator', 'license-administrator'] as const;

// A billing system that takes its time for `slow-` tenants: it answers only when the test says so.
const gates = new Map<string, () => void>();
const provisionCalls: string[] = [];
const cancelCalls: string[] = [];
const provisioner: TrialProvisioner = {
  async provision({ tenantDomain, idempotencyKey }) {
    provisionCalls.push(tenantDomain);
    if (tenantDomain.startsWith('slow-')) await new Promise<void>((resolve) => gates.set(tenantDomain, resolve));
    return { externalRef: `sub-${idempotencyKey}` };
  },
  cancel({ tenantDomain }) {
    cancelCalls.push(tenantDomain);
    return Promise.resolve();
  },
};

/** Emails the outbox holds for a relationship, by template. */
async function emailTemplates(system: TestSystem, relationshipId: string): Promise<string[]> {
  const rows = await system.db.emailMessage.findMany({ where: { relationshipId }, orderBy: { createdAt: 'asc' } });
  return rows.map((r) => r.template);
}

describe.concurrent('fault paths of the relationship workflow', () => {
  const system = useTestSystem('fault-paths', { trialProvisioner: provisioner });

  /** One pass of the grant reconciler, as its schedule starts it, limited to one partner's grants. */
  function reconcilerPass(partnerId: string, pageSize = 1, workflowId = `grant-reconciler-test-${randomUUID()}`, extra: Partial<GrantReconcilerInput> = {}) {
    const input: GrantReconcilerInput = { pageSize, partnerId, ...extra };
    return system.temporal.workflow.execute<typeof grantReconcilerWorkflow>('grantReconcilerWorkflow', {
      taskQueue: system.config.TEMPORAL_TASK_QUEUE,
      workflowId,
      args: [input],
    });
  }

  // Before: the cancellation ended the workflow with no code run; the grants stayed and access said yes.
  it('an operator cancels an active relationship: ended by the operator, grants revoked, audited, both sides told', async () => {
    const { partner, to, id, workflowId, handle } = await onboardActiveRelationship(system, 'cancel');
    expect(await access(partner, to)).toEqual({ allowed: true, relationshipId: id });

    await handle.cancel();
    const ended = await waitForStatus(partner, id, 'terminated');
    expect(ended.endedAt).toBeTruthy();
    expect(await access(partner, to)).toEqual({ allowed: false });
    expect(await system.db.roleGrant.count({ where: { relationshipId: id, revokedAt: null } })).toBe(0);
    const trail = await expectAuditPath(system, id, ['invited', 'accepted', 'active', 'terminated']);
    expect(trail.at(-1)).toMatchObject({ actor: 'operator', reason: CANCELLED_REASON });

    // The workflow still ends as cancelled, so the Web UI shows what the operator did.
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    const templates = await emailTemplates(system, id);
    expect(templates.filter((t) => t === 'terminated')).toHaveLength(2);
    await recordHistory(system.temporal, 'cancelled-while-active', workflowId);
  });

  it('an operator cancels an invitation: withdrawn with the reason, the link no longer works', async () => {
    const { partner, id, handle, link } = await deliveredOffer(system, 'cancelinvite');
    await handle.cancel();
    await waitForStatus(partner, id, 'withdrawn');
    const trail = await expectAuditPath(system, id, ['invited', 'withdrawn']);
    expect(trail.at(-1)).toMatchObject({ actor: 'operator', reason: CANCELLED_REASON });
    expect((await answer(link, { yes: true })).status).toBe(410);
  });

  // Before: nothing revoked the grants of a terminated workflow; access kept saying yes.
  it('a workflow terminated from the Web UI: the reconciler revokes its grants, records the end and leaves running ones alone', async () => {
    const partner = await newPartner(system, 'reconcile');
    const left = await onboardActiveRelationship(system, { partner, to: customer('terminated') });
    const kept = await onboardActiveRelationship(system, { partner, to: customer('running') });

    await left.handle.terminate('operator pressed Terminate in the Web UI');
    const passId = `grant-reconciler-test-${randomUUID()}`;
    const pass = await reconcilerPass(partner.id, 1, passId);
    expect(pass).toEqual({ checked: 2, revoked: [left.id], withdrawn: [] });
    await recordHistory(system.temporal, 'grant-reconciler-pass-over-two-pages', passId);

    expect(await access(partner, left.to)).toEqual({ allowed: false });
    expect(await access(partner, kept.to)).toEqual({ allowed: true, relationshipId: kept.id });
    const rel = await readModel(partner, left.id);
    expect(rel.status).toBe('terminated');
    const audit = await system.db.auditEvent.findMany({ where: { relationshipId: left.id, action: RECONCILED_REVOKE_ACTION } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorType: 'system', fromStatus: 'active', toStatus: 'terminated' });
    expect(audit[0]?.reason).toMatch(/TERMINATED/);

    // A second pass finds nothing more to do.
    expect(await reconcilerPass(partner.id, 10)).toEqual({ checked: 1, revoked: [], withdrawn: [] });
    await kept.partner.api.post(`/api/v1/relationships/${kept.id}/terminate`, {});
  });

  // Before: an offer saved by an API that died before starting its workflow (or an invitation whose
  // workflow was terminated from the Web UI) stayed `invited` for good, and its live key refused every new offer.
  it('invitations whose workflow never started or was terminated are withdrawn by the reconciler; running ones are left alone', async () => {
    const partner = await newPartner(system, 'orphaninvite');
    const to = customer('orphaninvite');
    const roles = ['user-administrator', 'license-administrator'];
    // What the API leaves when it dies between saving the offer and starting its workflow.
    const orphanId = randomUUID();
    await system.db.relationship.create({
      data: {
        id: orphanId,
        workflowId: relationshipWorkflowId(orphanId),
        partnerId: partner.id,
        tenantDomain: to.tenantDomain,
        contactEmail: to.adminEmail,
        status: 'invited',
        roles,
        autoExtend: false,
        policy: { ...defaultPolicy },
        liveKey: `${partner.id}|${to.tenantDomain}|${[...roles].sort().join(',')}`,
        invitationExpiresAt: new Date(Date.now() + 86_400_000),
        createdAt: new Date(Date.now() - 60_000),
      },
    });
    const blocked = await partner.api.post('/api/v1/relationships', { customer: to, roles });
    expect(blocked.status, blocked.text).toBe(409);
    const terminated = await deliveredOffer(system, { partner, to: customer('orphanterm') });
    await terminated.handle.terminate('operator pressed Terminate in the Web UI');
    const running = await deliveredOffer(system, { partner, to: customer('orphanrun') });

    const passId = `grant-reconciler-test-${randomUUID()}`;
    const pass = await reconcilerPass(partner.id, 1, passId, { invitationGraceMs: 0 });
    await recordHistory(system.temporal, 'reconciler-withdraws-orphaned-invitations', passId);
    expect(pass.revoked).toEqual([]);
    expect([...(pass.withdrawn ?? [])].sort()).toEqual([orphanId, terminated.id].sort());
    expect((await readModel(partner, orphanId)).status).toBe('withdrawn');
    expect((await readModel(partner, terminated.id)).status).toBe('withdrawn');
    expect((await readModel(partner, running.id)).status).toBe('invited');
    expect((await answer(terminated.link, { yes: true })).status).toBe(410);
    const audit = await system.db.auditEvent.findMany({ where: { relationshipId: orphanId } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorType: 'system', action: 'relationship.withdrawn', fromStatus: 'invited', toStatus: 'withdrawn' });
    expect(audit[0]?.reason).toMatch(/MISSING/);

    // The live key is free again, and a second pass changes nothing.
    const again = await partner.api.post('/api/v1/relationships', { customer: to, roles });
    expect(again.status, again.text).toBe(201);
    expect((await reconcilerPass(partner.id, 10, undefined, { invitationGraceMs: 0 })).withdrawn).toEqual([]);
    // The default grace leaves a just-saved offer alone, whatever its workflow.
    await system.db.relationship.update({ where: { id: orphanId }, data: { status: 'invited', liveKey: null } });
    await system.db.relationship.update({ where: { id: orphanId }, data: { createdAt: new Date() } });
    expect((await reconcilerPass(partner.id, 10)).withdrawn).toEqual([]);
    await system.db.relationship.update({ where: { id: orphanId }, data: { status: 'withdrawn' } });
    await running.handle.terminate('test cleanup');
    await system.temporal.workflow.getHandle(relationshipWorkflowId(String(again.json.id))).terminate('test cleanup');
  });

  it('the reconciler schedule is created once and brought up to date on every worker start', async () => {
    const taskQueue = `fault-paths-schedule-${randomUUID()}`;
    const options = { taskQueue, intervalSeconds: 60, pageSize: 100 };
    expect(await ensureGrantReconcilerSchedule(system.temporal, options)).toBe('created');
    expect(await ensureGrantReconcilerSchedule(system.temporal, { ...options, intervalSeconds: 30 })).toBe('updated');
    const schedule = system.temporal.schedule.getHandle(grantReconcilerScheduleId(taskQueue));
    try {
      const described = await schedule.describe();
      expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'grantReconcilerWorkflow', taskQueue });
      expect(described.spec.intervals?.[0]?.every).toBe(30_000);
    } finally {
      await schedule.delete();
    }
  });

  // Before: the trial activity ran on; "trial ready" went to the customer after the removal, and the trial stayed.
  it('the customer removes the partner while the trial is provisioned: told at once, no trial-ready email, the trial undone', async () => {
    const partner = await newPartner(system, 'trialremove');
    const to = customer('slow');
    const { id, workflowId, handle, link } = await deliveredOffer(system, { partner, to }, { trial: { offer: 'Business Premium', seats: 5, days: 30 } });
    await answer(link, { yes: true, startTrial: true });
    await waitForStatus(partner, id, 'provisioning');
    await waitFor(() => gates.has(to.tenantDomain), { what: 'the provider to be asked for the trial' });

    const actor = { type: 'customer' as const, id: to.adminEmail };
    await handle.executeUpdate(removeUpdate, { args: [{ actor, reason: 'Changed my mind' }] });
    // The end does not wait for the provider.
    await waitFor(async () => (await emailTemplates(system, id)).includes('removed'), { what: 'the removal emails', timeoutMs: 15_000 });
    expect((await stateOf(handle)).trial?.status).toBe('cancelled');

    // The provider answers late: its trial is undone, never activated.
    gates.get(to.tenantDomain)?.();
    expect((await handle.result()).status).toBe('terminated');
    await waitFor(() => cancelCalls.filter((t) => t === to.tenantDomain).length >= 2, { what: 'the provider to be asked to undo the trial' });
    const trial = await system.db.trialSubscription.findUniqueOrThrow({ where: { relationshipId: id } });
    expect(trial.status).toBe('cancelled');
    expect(await emailTemplates(system, id)).not.toContain('trialReady');
    expect(await system.db.auditEvent.count({ where: { relationshipId: id, action: 'trial.cancelled' } })).toBe(1);
    await expectAuditPath(system, id, ['invited', 'accepted', 'provisioning', 'terminated']);
    await recordHistory(system.temporal, 'removed-while-trial-provisioning', workflowId);
  });

  // Before: the first write failed on every retry (no row to refer to) and the run hung, retrying forever.
  it('a workflow whose relationship row does not exist fails at once with a typed non-retryable error', async () => {
    const id = randomUUID();
    const orphan: RelationshipOffer = {
      relationshipId: id,
      partnerId: randomUUID(),
      partnerName: 'Nobody',
      tenantDomain: `orphan-${id.slice(0, 8)}.example.com`,
      customerAdminEmail: 'admin@orphan.example.com',
      roles: [...ROLES],
      autoExtend: false,
      policy: defaultPolicy,
    };
    const handle = await system.temporal.workflow.start<typeof relationshipWorkflow>('relationshipWorkflow', {
      taskQueue: system.config.TEMPORAL_TASK_QUEUE,
      workflowId: relationshipWorkflowId(id),
      args: [{ offer: orphan }],
    });
    await waitFor(async () => (await handle.describe()).status.name !== 'RUNNING', { what: 'the orphaned run to close', timeoutMs: 20_000 });
    const err: unknown = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const activity = (err as WorkflowFailedError).cause;
    expect(activity).toBeInstanceOf(ActivityFailure);
    expect(activity?.cause).toBeInstanceOf(ApplicationFailure);
    expect(activity?.cause).toMatchObject({ type: permanentActivityFailures.recordNotFound, nonRetryable: true });
    const started = ((await handle.fetchHistory()).events ?? []).filter((e) => e.activityTaskStartedEventAttributes);
    // Never retried: the first write and the first invitation (issued together) each ran once.
    const attempts = started.map((e) => e.activityTaskStartedEventAttributes?.attempt);
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    expect(attempts.length).toBeLessThanOrEqual(2);
    expect(attempts.every((attempt) => attempt === 1)).toBe(true);
    await recordHistory(system.temporal, 'orphaned-run-fails-fast', handle.workflowId);
  });

  // Before: ignored signals grew one run's history without bound; the run never continued as new.
  it('an invitation flooded with signals continues as new and can still be accepted', async () => {
    const { partner, to } = await newParties(system, 'flood');
    const { id, handle: first } = await offer(system, partner, to);
    await first.terminate('test: replaced by a run with a short history limit');
    const input: RelationshipOffer = {
      relationshipId: id,
      partnerId: partner.id,
      partnerName: partner.name,
      tenantDomain: to.tenantDomain,
      customerAdminEmail: to.adminEmail,
      customerName: to.name,
      roles: [...ROLES],
      autoExtend: false,
      policy: { ...defaultPolicy, historyEventsBeforeContinueAsNew: 50 },
    };
    const run = await system.temporal.workflow.start<typeof relationshipWorkflow>('relationshipWorkflow', {
      taskQueue: system.config.TEMPORAL_TASK_QUEUE,
      workflowId: first.workflowId,
      args: [{ offer: input }],
    });
    await waitFor(async () => ((await stateOf(run)).invitation.validIds.length > 0 ? true : undefined), { what: 'the invitation' });
    const firstRun = system.temporal.workflow.getHandle(run.workflowId, run.firstExecutionRunId);
    await waitFor(
      async () => {
        if ((await firstRun.describe()).status.name === 'CONTINUED_AS_NEW') return true;
        await run.signal(invitationUndeliverableSignal, { jobId: 'flood', template: 'invitation', reason: '550 mailbox full' });
        return undefined;
      },
      { what: 'the run to continue as new', timeoutMs: 30_000 },
    );

    const latest = system.temporal.workflow.getHandle(run.workflowId);
    const carried = await stateOf(latest);
    expect(carried.status).toBe('invited');
    const [invitationId] = carried.invitation.validIds;
    if (!invitationId) throw new Error('no invitation carried over');
    await latest.executeUpdate(acceptUpdate, { args: [{ invitationId, actor: { type: 'customer', id: to.adminEmail }, startTrial: false }] });
    await waitForStatus(partner, id, 'active');
    await recordHistory(system.temporal, 'invited-continues-as-new-after-signal-flood', run.workflowId, run.firstExecutionRunId);
    await partner.api.post(`/api/v1/relationships/${id}/terminate`, {});
  });
});
