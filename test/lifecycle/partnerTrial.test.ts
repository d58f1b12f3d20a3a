import { describe, expect, it } from 'vitest';
import type { TrialWebhookEvent } from '../../src/webhooks/trialWebhookEvent.js';
import { recordHistory } from '../support/historyRecorder.js';
import {
  access,
  answer,
  csrfIn,
  customer,
  getPage,
  invitationLink,
  mailTo,
  mailsTo,
  newPartner,
  offer,
  postForm,
  stateOf,
  subjects,
  waitForStatus,
  type Partner,
} from '../support/relationshipDriver.js';
import { signIn } from '../support/tenantDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { newProvisioningPartner, useWebhookReceiver } from '../support/webhookReceiver.js';

// A trial provisioned by the partner's own system (issue 17, docs/commerce.md):
// once the relationship is active the partner gets a signed `trial.requested`
// and completes it through POST /relationships/{id}/trial before its deadline;
// every way that goes wrong leaves the relationship active and says why.

const trial = { offer: 'Business Premium', seats: 10, days: 30 };

describe.concurrent('trials the partner provisions', () => {
  const receiver = useWebhookReceiver();
  const system = useTestSystem('partner-trial', { env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' } });

  const provisioningPartner = (label: string) => newProvisioningPartner(system, receiver, label);

  /** Offers with a trial (and `extra`), the customer takes the trial, the relationship goes active. */
  async function takenTrial(partner: Partner, label: string, extra: Record<string, unknown> = {}) {
    const to = customer(label);
    const offered = await offer(system, partner, to, { trial, ...extra });
    const link = await invitationLink(system, to);
    const answered = await answer(link, { yes: true, startTrial: true });
    expect(answered.status, answered.text).toBe(200);
    const active = await waitForStatus(partner, offered.id, 'active');
    return { to, ...offered, active };
  }

  const complete = (partner: Partner, id: string, body: Record<string, unknown>) => partner.api.post(`/api/v1/relationships/${id}/trial`, body);
  const trialView = async (partner: Partner, id: string) => (await partner.api.get(`/api/v1/relationships/${id}`)).json.trial as Record<string, unknown>;

  it('active at once, a signed trial.requested, completed through the API → trial ready for the customer; a second or foreign completion refused', async () => {
    const { partner, types, waitForEvent } = await provisioningPartner('ptrial');
    const { to, id, workflowId, handle } = await takenTrial(partner, 'ptrial', { provisioningDeadlineSeconds: 600 });
    // The relationship never waits on the partner's system: no `provisioning` step, access at once.
    expect((await stateOf(handle)).transitions.map((t) => t.to)).toEqual(['invited', 'accepted', 'active']);
    expect(await access(partner, to)).toEqual({ allowed: true, relationshipId: id });

    const { hook, event } = await waitForEvent<TrialWebhookEvent>('trial.requested');
    expect(hook.check).toMatchObject({ ok: true });
    expect(event.data).toMatchObject({ relationshipId: id, tenantDomain: to.tenantDomain, trial: { status: 'requested', offer: 'Business Premium', seats: 10, days: 30 } });
    expect(event.data.completeUrl).toBe(`${system.baseUrl}/api/v1/relationships/${id}/trial`);
    expect(await trialView(partner, id)).toMatchObject({ status: 'requested' });

    const stranger = await newPartner(system, 'ptrialstranger');
    expect((await complete(stranger, id, { status: 'active', externalRef: 'TRIAL-EVIL' })).status).toBe(404);
    const done = await complete(partner, id, { status: 'active', externalRef: 'TRIAL-42' });
    expect(done.status, done.text).toBe(200);
    expect(done.json.trial).toMatchObject({ status: 'active' });
    const again = await complete(partner, id, { status: 'active', externalRef: 'TRIAL-43' });
    expect(again.status, again.text).toBe(409);
    expect(again.json).toMatchObject({ reason: 'noTrialRequest' });
    expect(again.text).toMatch(/already completed/);

    await mailTo(system, to.adminEmail, subjects.trialReady);
    await waitForEvent<TrialWebhookEvent>('trial.active');
    const row = await system.db.trialSubscription.findUniqueOrThrow({ where: { relationshipId: id } });
    expect(row).toMatchObject({ status: 'active', externalRef: 'TRIAL-42' });
    expect(row.endsAt && row.startsAt ? row.endsAt.getTime() - row.startsAt.getTime() : 0).toBe(30 * 86_400_000);
    const audit = await system.db.auditEvent.findMany({ where: { relationshipId: id, action: { startsWith: 'trial.' } }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => [a.action, a.actorType])).toEqual([
      ['trial.requested', 'system'],
      ['trial.active', 'partner'],
    ]);
    expect(types().filter((t) => t.startsWith('trial.'))).toEqual(['trial.requested', 'trial.active']);

    await partner.api.post(`/api/v1/relationships/${id}/terminate`, {});
    await handle.result();
    await recordHistory(system.temporal, 'partner-trial-completed-then-terminated-writes-in-order', workflowId);
  });

  it('with a purchase too: the subscription completed, the trial left to its deadline fails on its own; the relationship stays active', async () => {
    const { partner, waitForEvent } = await provisioningPartner('ptrialdue');
    const purchase = { product: 'Business Premium', seats: 10, term: 'P1M', pricePerSeat: { amount: '20.00', currency: 'EUR' } };
    const to = customer('ptrialdue');
    const { id, workflowId, handle } = await offer(system, partner, to, { trial, purchase, provisioningDeadlineSeconds: 4 });
    const link = await invitationLink(system, to);
    expect((await postForm(link, { choice: 'yes', trial: 'start' })).status).toBe(200);
    expect((await postForm(link, { choice: 'yes', trial: 'start', purchase: 'confirm', agree: 'yes' })).status).toBe(200);
    await waitForStatus(partner, id, 'active');
    await waitForEvent<TrialWebhookEvent>('trial.requested');
    await waitForEvent('subscription.requested');
    expect((await partner.api.post(`/api/v1/relationships/${id}/subscription`, { status: 'active', externalRef: 'SUB-1' })).status).toBe(200);

    const { event } = await waitForEvent<TrialWebhookEvent>('trial.failed');
    expect(event.data.trial.failureReason).toMatch(/did not complete the trial request by its deadline/);
    const failedMail = await mailTo(system, partner.contactEmail, subjects.trialFailed);
    expect(failedMail.parsed.text).toMatch(/did not complete the trial request by its deadline/);
    expect(mailsTo(system, to.adminEmail, subjects.trialReady)).toHaveLength(0);
    const late = await complete(partner, id, { status: 'active', externalRef: 'TRIAL-LATE' });
    expect(late.status, late.text).toBe(409);
    expect(late.json).toMatchObject({ reason: 'noTrialRequest' });
    const state = await stateOf(handle);
    expect(state).toMatchObject({ status: 'active', trial: { status: 'failed' }, subscription: { status: 'active', externalRef: 'SUB-1' } });
    await partner.api.post(`/api/v1/relationships/${id}/terminate`, {});
    await handle.result();
    await recordHistory(system.temporal, 'partner-trial-deadline-with-subscription-completed-writes-in-order', workflowId);
  });

  it("the partner's system fails it: trial failed with its reason, the partner's email says why", async () => {
    const { partner, waitForEvent } = await provisioningPartner('ptrialfail');
    const { id, handle } = await takenTrial(partner, 'ptrialfail');
    await waitForEvent<TrialWebhookEvent>('trial.requested');
    expect((await complete(partner, id, { status: 'failed', reason: 'No capacity in that region' })).status).toBe(200);
    expect(await trialView(partner, id)).toMatchObject({ status: 'failed', failureReason: 'No capacity in that region' });
    const mail = await mailTo(system, partner.contactEmail, subjects.trialFailed);
    expect(mail.parsed.text).toContain('No capacity in that region');
    expect((await stateOf(handle)).status).toBe('active');
    await partner.api.post(`/api/v1/relationships/${id}/terminate`, {});
  });

  it('the customer removes the partner while the trial is requested: trial.cancelled, a late completion refused', async () => {
    const { partner, waitForEvent } = await provisioningPartner('ptrialrm');
    const { to, id, workflowId, handle } = await takenTrial(partner, 'ptrialrm');
    await waitForEvent<TrialWebhookEvent>('trial.requested');
    const jar = await signIn(system, to.tenantDomain, to.adminEmail);
    const list = await getPage(`${system.baseUrl}/partner-relationships`, jar);
    const confirm = await postForm(`${system.baseUrl}/partner-relationships/${id}/delete`, { csrf: csrfIn(list.text) }, jar);
    expect((await postForm(`${system.baseUrl}/partner-relationships/${id}/delete/confirm`, { csrf: csrfIn(confirm.text) }, jar)).status).toBe(200);
    expect(await handle.result()).toMatchObject({ status: 'terminated', trial: { status: 'cancelled' } });
    const { hook } = await waitForEvent<TrialWebhookEvent>('trial.cancelled');
    expect(hook.check).toMatchObject({ ok: true });
    const late = await complete(partner, id, { status: 'active', externalRef: 'TRIAL-AFTER' });
    expect(late.status, late.text).toBe(409);
    expect(late.json).toMatchObject({ reason: 'noTrialRequest' });
    expect(late.text).toMatch(/its trial is cancelled/);
    expect((await system.db.trialSubscription.findUniqueOrThrow({ where: { relationshipId: id } })).status).toBe('cancelled');
    expect(mailsTo(system, to.adminEmail, subjects.trialReady)).toHaveLength(0);
    await recordHistory(system.temporal, 'partner-trial-requested-then-customer-removes-writes-in-order', workflowId);
  });

  it('a trial the local provider makes is never the partner’s to complete', async () => {
    const partner = await newPartner(system, 'ptriallocal');
    const { id, active } = await takenTrial(partner, 'ptriallocal');
    expect(active.trial).toMatchObject({ status: 'active' });
    const refused = await complete(partner, id, { status: 'active', externalRef: 'TRIAL-X' });
    expect(refused.status, refused.text).toBe(409);
    expect(refused.json).toMatchObject({ reason: 'noTrialRequest' });
    await partner.api.post(`/api/v1/relationships/${id}/terminate`, {});
  });
});
