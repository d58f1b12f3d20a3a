import { describe, expect, it } from 'vitest';
import type { SubscriptionWebhookEvent } from '../../src/webhooks/subscriptionWebhookEvent.js';
import { recordHistory } from '../support/historyRecorder.js';
import {
  access,
  csrfIn,
  customer,
  getPage,
  invitationLink,
  newPartner,
  offer,
  postForm,
  stateOf,
  waitFor,
  waitForStatus,
  type Customer,
  type Partner,
} from '../support/relationshipDriver.js';
import { signIn } from '../support/tenantDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { newProvisioningPartner, useWebhookReceiver } from '../support/webhookReceiver.js';
import type { TestSystem } from '../support/testSystem.js';

// Purchase offers on the real stack (issue 17, docs/commerce.md): the customer
// agrees to the purchase or continues without it, the local provisioner or the
// partner's own system (a signed `subscription.requested`, then its completion
// through the API before a deadline) creates the subscription, and every way it
// can go wrong changes nothing twice and says why.

const purchase = { product: 'Business Premium', seats: 12, term: 'P1M', pricePerSeat: { amount: '22.00', currency: 'EUR' }, autoRenew: true };

/** Offers with the purchase, answers Yes on the emailed link and decides on the purchase as the purchase step's form does. */
async function boughtOrSkipped(system: TestSystem, partner: Partner, to: Customer, decision: 'confirm' | 'skip', extra: Record<string, unknown> = {}) {
  const offered = await offer(system, partner, to, { purchase, ...extra });
  const link = await invitationLink(system, to);
  const step = await postForm(link, { choice: 'yes' });
  expect(step.status, step.text).toBe(200);
  expect(step.text).toContain('264.00');
  const answered = await postForm(link, { choice: 'yes', purchase: decision, ...(decision === 'confirm' ? { agree: 'yes' } : {}) });
  expect(answered.status, answered.text).toBe(200);
  expect(answered.text).toContain('You authorized');
  await waitForStatus(partner, offered.id, 'active');
  return offered;
}

const subscriptionOf = async (partner: Partner, id: string) => (await partner.api.get(`/api/v1/relationships/${id}`)).json.subscription as Record<string, unknown> | null;

function waitForSubscription(partner: Partner, id: string, status: string) {
  return waitFor(
    async () => {
      const s = await subscriptionOf(partner, id);
      return s?.status === status ? s : undefined;
    },
    { what: `relationship ${id}'s subscription to be ${status} in the partner API` },
  );
}

async function subscriptionAudit(system: TestSystem, id: string) {
  const rows = await system.db.auditEvent.findMany({ where: { relationshipId: id, action: { startsWith: 'subscription.' } }, orderBy: { id: 'asc' } });
  return rows;
}

describe.concurrent('purchase offers', () => {
  const receiver = useWebhookReceiver();
  const system = useTestSystem('purchase', { env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' } });

  const provisioningPartner = (label: string) => newProvisioningPartner(system, receiver, label);

  it('local provisioner: agreed → active at once, with who agreed to what in the audit log and the Web UI summary', async () => {
    const partner = await newPartner(system, 'buylocal');
    const to = customer('buylocal');
    const { id, workflowId, handle } = await boughtOrSkipped(system, partner, to, 'confirm');
    const sub = await waitForSubscription(partner, id, 'active');
    expect(sub).toMatchObject({ product: 'Business Premium', seats: 12, term: 'P1M', total: { amount: '264.00', currency: 'EUR' } });
    expect(String(sub.externalRef)).toMatch(/^local-sub-[0-9a-f]{16}$/);
    const audit = await subscriptionAudit(system, id);
    expect(audit.map((a) => a.action)).toEqual(['subscription.agreed', 'subscription.active']);
    expect(audit[0]).toMatchObject({ actorType: 'customer', actorId: to.adminEmail });
    expect(audit[0]?.data).toMatchObject({ product: 'Business Premium', seats: 12, total: { amount: '264.00', currency: 'EUR' } });
    const row = await system.db.subscription.findUniqueOrThrow({ where: { relationshipId: id } });
    expect(row).toMatchObject({ status: 'active', agreedBy: to.adminEmail, externalRef: sub.externalRef });
    // The Temporal Web UI's summary (setCurrentDetails) names the subscription and where it stands.
    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain('subscription: Business Premium × 12 per P1M, **active**');
    expect((await stateOf(handle)).subscription?.status).toBe('active');

    await partner.api.post(`/api/v1/relationships/${id}/terminate`, {});
    expect((await handle.result()).subscription?.status).toBe('active');
    await recordHistory(system.temporal, 'purchase-local-active-then-terminated-writes-in-order', workflowId);
  });

  it("partner's system: a signed subscription.requested, completed through the API → active everywhere; a second completion and another partner's are refused", async () => {
    const { partner, waitForEvent, types } = await provisioningPartner('buyremote');
    const to = customer('buyremote');
    const { id, workflowId, handle } = await boughtOrSkipped(system, partner, to, 'confirm', { provisioningDeadlineSeconds: 600 });
    const { hook, event } = await waitForEvent<SubscriptionWebhookEvent>('subscription.requested');
    expect(hook.check).toMatchObject({ ok: true });
    expect(event.data).toMatchObject({ relationshipId: id, tenantDomain: to.tenantDomain, subscription: { status: 'requested', seats: 12, total: { amount: '264.00', currency: 'EUR' } } });
    expect(event.data.completeUrl).toBe(`${system.baseUrl}/api/v1/relationships/${id}/subscription`);
    // The partner's system never learns which admin agreed.
    expect(hook.body).not.toContain(to.adminEmail);
    expect(await access(partner, to)).toEqual({ allowed: true, relationshipId: id });

    const stranger = await newPartner(system, 'buystranger');
    const foreign = await stranger.api.post(`/api/v1/relationships/${id}/subscription`, { status: 'active', externalRef: 'SUB-EVIL' });
    expect(foreign.status, foreign.text).toBe(404);

    const completed = await partner.api.post(`/api/v1/relationships/${id}/subscription`, { status: 'active', externalRef: 'SUB-4711' });
    expect(completed.status, completed.text).toBe(200);
    expect(completed.json.subscription).toMatchObject({ status: 'active', externalRef: 'SUB-4711' });
    await waitForSubscription(partner, id, 'active');
    const again = await partner.api.post(`/api/v1/relationships/${id}/subscription`, { status: 'failed', reason: 'changed our mind' });
    expect(again.status, again.text).toBe(409);
    expect(again.json).toMatchObject({ reason: 'noSubscriptionRequest' });
    expect(again.text).toMatch(/already completed/);
    await waitForEvent<SubscriptionWebhookEvent>('subscription.active');
    expect((await stateOf(handle)).subscription).toMatchObject({ status: 'active', externalRef: 'SUB-4711' });
    expect((await subscriptionAudit(system, id)).map((a) => a.action)).toEqual(['subscription.agreed', 'subscription.requested', 'subscription.active']);

    await partner.api.post(`/api/v1/relationships/${id}/terminate`, {});
    await handle.result();
    // Active subscriptions are the partner's to end in its own billing: the end of the relationship withdraws nothing.
    expect(types().filter((t) => t.startsWith('subscription.'))).toEqual(['subscription.requested', 'subscription.active']);
    await recordHistory(system.temporal, 'purchase-partner-completes-then-terminated-writes-in-order', workflowId);
  });

  it("partner's system fails it: the relationship stays active, the subscription is failed with the reason", async () => {
    const { partner, waitForEvent } = await provisioningPartner('buyfail');
    const to = customer('buyfail');
    const { id, handle } = await boughtOrSkipped(system, partner, to, 'confirm');
    await waitForEvent<SubscriptionWebhookEvent>('subscription.requested');
    const failed = await partner.api.post(`/api/v1/relationships/${id}/subscription`, { status: 'failed', reason: 'Card declined' });
    expect(failed.status, failed.text).toBe(200);
    const sub = await waitForSubscription(partner, id, 'failed');
    expect(sub.failureReason).toBe('Card declined');
    const { event } = await waitForEvent<SubscriptionWebhookEvent>('subscription.failed');
    expect(event.data.subscription.failureReason).toBe('Card declined');
    expect((await stateOf(handle)).status).toBe('active');
    expect(await access(partner, to)).toEqual({ allowed: true, relationshipId: id });
    await partner.api.post(`/api/v1/relationships/${id}/terminate`, {});
  });

  it("partner's system never answers: failed at the deadline, relationship still active, a late completion refused", async () => {
    const { partner, waitForEvent } = await provisioningPartner('buylate');
    const to = customer('buylate');
    const { id, workflowId, handle } = await boughtOrSkipped(system, partner, to, 'confirm', { provisioningDeadlineSeconds: 3 });
    await waitForEvent<SubscriptionWebhookEvent>('subscription.requested');
    const sub = await waitForSubscription(partner, id, 'failed');
    expect(String(sub.failureReason)).toMatch(/did not complete the request by its deadline/);
    await waitForEvent<SubscriptionWebhookEvent>('subscription.failed');
    const late = await partner.api.post(`/api/v1/relationships/${id}/subscription`, { status: 'active', externalRef: 'SUB-LATE' });
    expect(late.status, late.text).toBe(409);
    expect(late.json).toMatchObject({ reason: 'noSubscriptionRequest' });
    expect((await stateOf(handle)).status).toBe('active');
    await partner.api.post(`/api/v1/relationships/${id}/terminate`, {});
    await handle.result();
    await recordHistory(system.temporal, 'purchase-deadline-passes-then-terminated-writes-in-order', workflowId);
  });

  it('the customer continues without the purchase: authorized, subscription declined, the partner told; a completion is refused', async () => {
    const { partner, waitForEvent } = await provisioningPartner('buyskip');
    const to = customer('buyskip');
    const { id, workflowId, handle } = await boughtOrSkipped(system, partner, to, 'skip');
    await waitForSubscription(partner, id, 'declined');
    const { hook } = await waitForEvent<SubscriptionWebhookEvent>('subscription.declined');
    expect(hook.check).toMatchObject({ ok: true });
    expect(await access(partner, to)).toEqual({ allowed: true, relationshipId: id });
    const completion = await partner.api.post(`/api/v1/relationships/${id}/subscription`, { status: 'active', externalRef: 'SUB-X' });
    expect(completion.status, completion.text).toBe(409);
    expect(String(completion.text)).toMatch(/continued without the purchase/);
    expect((await subscriptionAudit(system, id)).map((a) => [a.action, a.actorType])).toEqual([['subscription.declined', 'customer']]);
    await partner.api.post(`/api/v1/relationships/${id}/terminate`, {});
    await handle.result();
    await recordHistory(system.temporal, 'purchase-declined-then-terminated-writes-in-order', workflowId);
  });

  it('the customer removes the partner while the request is pending: subscription.cancelled, and a late completion refused', async () => {
    const { partner, waitForEvent } = await provisioningPartner('buyremove');
    const to = customer('buyremove');
    const { id, workflowId, handle } = await boughtOrSkipped(system, partner, to, 'confirm');
    await waitForEvent<SubscriptionWebhookEvent>('subscription.requested');

    const jar = await signIn(system, to.tenantDomain, to.adminEmail);
    const list = await getPage(`${system.baseUrl}/partner-relationships`, jar);
    expect(list.text).toContain('Business Premium');
    const confirm = await postForm(`${system.baseUrl}/partner-relationships/${id}/delete`, { csrf: csrfIn(list.text) }, jar);
    const removed = await postForm(`${system.baseUrl}/partner-relationships/${id}/delete/confirm`, { csrf: csrfIn(confirm.text) }, jar);
    expect(removed.status, removed.text).toBe(200);
    const final = await handle.result();
    expect(final).toMatchObject({ status: 'terminated', subscription: { status: 'cancelled' } });
    expect(final.transitions.at(-1)?.actor.type).toBe('customer');

    const { hook, event } = await waitForEvent<SubscriptionWebhookEvent>('subscription.cancelled');
    expect(hook.check).toMatchObject({ ok: true });
    expect(event.data.subscription.status).toBe('cancelled');
    const late = await partner.api.post(`/api/v1/relationships/${id}/subscription`, { status: 'active', externalRef: 'SUB-AFTER' });
    expect(late.status, late.text).toBe(409);
    expect(late.json).toMatchObject({ reason: 'noSubscriptionRequest' });
    expect((await system.db.subscription.findUniqueOrThrow({ where: { relationshipId: id } })).status).toBe('cancelled');
    expect(await access(partner, to)).toEqual({ allowed: false });
    await recordHistory(system.temporal, 'purchase-requested-then-customer-removes-writes-in-order', workflowId);
  });
});
