import { describe, expect, it } from 'vitest';
import { TRIAL_PROVISIONING_FAILED, type TrialProvisioner } from '../../src/activities/trialProvisioning.js';
import { recordHistory } from '../support/historyRecorder.js';
import {
  access,
  customer,
  expectAuditPath,
  mailTo,
  mailsTo,
  newPartner,
  onboardActiveRelationship,
  statusSearchAttributeValues,
  subjects,
  stateOf,
} from '../support/relationshipDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';

// A billing system that is down for some tenants and drops the first answer
// for others (it made the trial, the reply was lost), keyed like a real one.
const calls: { tenantDomain: string; idempotencyKey: string }[] = [];
const created = new Map<string, string>();
const provisioner: TrialProvisioner = {
  provision(request) {
    calls.push({ tenantDomain: request.tenantDomain, idempotencyKey: request.idempotencyKey });
    if (request.tenantDomain.startsWith('down-')) return Promise.reject(new Error('Billing system unavailable'));
    const existing = created.get(request.idempotencyKey);
    if (existing) return Promise.resolve({ externalRef: existing });
    created.set(request.idempotencyKey, `sub-${created.size + 1}`);
    return Promise.reject(new Error('Connection reset after the subscription was created'));
  },
};

describe.concurrent('trial provisioning that fails', () => {
  const system = useTestSystem('trial-failure', { trialProvisioner: provisioner });

  it('keeps the acceptance: active, trial marked failed, partner gets trialFailed', async () => {
    const partner = await newPartner(system, 'trialfail');
    const to = customer('down');
    const { id, workflowId, handle, active } = await onboardActiveRelationship(system, { partner, to }, {
      trial: { offer: 'Business Premium', seats: 10, days: 30 },
      policy: { trialProvisioningAttempts: 2 },
    }, { startTrial: true });
    expect(active.trial).toMatchObject({ status: 'failed', failureReason: TRIAL_PROVISIONING_FAILED.message });
    expect(calls.filter((c) => c.tenantDomain === to.tenantDomain)).toHaveLength(2);
    const failed = await mailTo(system, partner.contactEmail, subjects.trialFailed);
    expect(failed.parsed.text).toContain(TRIAL_PROVISIONING_FAILED.message);
    expect(mailsTo(system, to.adminEmail, subjects.trialReady)).toHaveLength(0);
    expect((await stateOf(handle)).trial).toMatchObject({ status: 'failed', failureReason: TRIAL_PROVISIONING_FAILED.message });
    expect(await access(partner, to)).toEqual({ allowed: true, relationshipId: id });

    await expectAuditPath(system, id, ['invited', 'accepted', 'provisioning', 'active']);
    const trialAudit = await system.db.auditEvent.findMany({ where: { relationshipId: id, action: 'trial.failed' } });
    expect(trialAudit).toHaveLength(1);
    expect(await statusSearchAttributeValues(handle)).toEqual(['invited', 'accepted', 'provisioning', 'active']);

    await partner.api.post(`/api/v1/relationships/${id}/terminate`, {});
    await handle.result();
    await recordHistory(system.temporal, 'trial-fails-then-partner-terminates-writes-in-order', workflowId);
  });

  it('a retried provisioning makes one trial, not two', async () => {
    const partner = await newPartner(system, 'trialretry');
    const to = customer('flaky');
    const { id, workflowId, active } = await onboardActiveRelationship(system, { partner, to }, { trial: { offer: 'Business Basic', seats: 3, days: 14 } }, { startTrial: true });
    const mine = calls.filter((c) => c.tenantDomain === to.tenantDomain);
    expect(mine).toHaveLength(2);
    // Both attempts carried the same key, derived from the workflow, so the billing system made one subscription.
    expect(new Set(mine.map((c) => c.idempotencyKey))).toEqual(new Set([`${workflowId}-trial`]));
    expect(active.trial).toMatchObject({ status: 'active' });
    const rows = await system.db.trialSubscription.findMany({ where: { relationshipId: id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.externalRef).toBe(created.get(`${workflowId}-trial`));
    await mailTo(system, to.adminEmail, subjects.trialReady);
    await partner.api.post(`/api/v1/relationships/${id}/terminate`, {});
  });
});
