import { describe, expect, it } from 'vitest';
import { TRIAL_PROVISIONING_FAILED, type TrialProvisioner } from '../../src/activities/trialProvisioning.js';
import { customer, mailTo, onboardActiveRelationship, stateOf, subjects, unique } from '../support/relationshipDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { waitFor } from '../support/waitFor.js';
import { newPartnerWithWebhook, useWebhookReceiver } from '../support/webhookReceiver.js';

// Issue 10, item 7: a trial provider's raw error text (here a credential and an
// internal address) never reaches the partner. The API, the webhooks, the
// trialFailed email and the workflow's state carry the stable message; the raw
// text stays in the operators' audit log (and the worker's log).

const RAW = 'db password=hunter2 at 10.1.2.3';
const leaks = (text: string) => text.includes('hunter2') || text.includes('10.1.2.3');

const provisioner: TrialProvisioner = { provision: () => Promise.reject(new Error(RAW)) };

describe('provider errors reach partners only as a stable message', () => {
  // Registered first, so it closes after the system has stopped.
  const receiver = useWebhookReceiver();
  // The receiver listens on 127.0.0.1, so this file allows private webhook targets.
  const system = useTestSystem('provider-errors', { trialProvisioner: provisioner, env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' } });

  it('a provisioner failing with secrets in its message: partner API, webhooks and email show the stable message only', async () => {
    const path = `/hooks/${unique('p')}`;
    const partner = await newPartnerWithWebhook(system, receiver, 'provider', path, () => 204);
    const to = customer('provider');
    const { id, handle, active } = await onboardActiveRelationship(
      system,
      { partner, to },
      { trial: { offer: 'Business Premium', seats: 5, days: 30 }, policy: { trialProvisioningAttempts: 2 } },
      { startTrial: true },
    );
    expect(active.trial).toMatchObject({ status: 'failed', failureReason: TRIAL_PROVISIONING_FAILED.message });
    const viaApi = await partner.api.get(`/api/v1/relationships/${id}`);
    expect(leaks(viaApi.text)).toBe(false);
    expect(leaks(JSON.stringify((await partner.api.get('/api/v1/relationships')).json))).toBe(false);

    const mail = await mailTo(system, partner.contactEmail, subjects.trialFailed);
    expect(mail.parsed.text).toContain(TRIAL_PROVISIONING_FAILED.message);
    expect(leaks(`${mail.parsed.subject ?? ''}${mail.parsed.text ?? ''}${typeof mail.parsed.html === 'string' ? mail.parsed.html : ''}`)).toBe(false);

    const hooks = await waitFor(() => {
      const got = receiver.at(path);
      return got.some((h) => h.body.includes('"relationship.active"')) ? got : undefined;
    }, { what: 'the relationship.active webhook' });
    expect(hooks.some((h) => leaks(h.body))).toBe(false);

    expect(leaks(JSON.stringify((await stateOf(handle)).trial))).toBe(false);

    // Operators keep the provider's own words: one audit entry per failed attempt.
    const audit = await system.db.auditEvent.findMany({ where: { relationshipId: id, action: 'trial.providerError' } });
    expect(audit).toHaveLength(2);
    expect(JSON.stringify(audit[0]?.data)).toContain(RAW);
  });
});
