import { describe, expect, it } from 'vitest';
import type { RelationshipWebhookEvent } from '../src/webhooks/webhookEvent.js';
import { DELIVERY_HEADER, EVENT_HEADER, verifyWebhook } from '../src/webhooks/webhookSignature.js';
import { customer, newPartner, offer, onboardActiveRelationship, unique } from './support/relationshipDriver.js';
import { useTestSystem } from './support/useTestSystem.js';
import { waitFor } from './support/waitFor.js';
import { newPartnerWithWebhook, startWebhookReceiver, useWebhookReceiver, type WebhookReceiver } from './support/webhookReceiver.js';

// Webhooks through the real worker, queue and database to an HTTP server this
// file starts. Three quick attempts, so a failing endpoint gives up in seconds.

const ATTEMPTS = 3;

describe('webhooks', () => {
  const receiver = useWebhookReceiver();
  const system = useTestSystem('webhooks', { env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_ATTEMPTS: String(ATTEMPTS), WEBHOOK_BACKOFF_MS: '200', WEBHOOK_TIMEOUT_MS: '5000' } });

  /** A partner whose webhook URL is `path` on the receiver, which checks signatures with its secret. */
  const partnerWithWebhook = (path: string, respond: Parameters<WebhookReceiver['endpoint']>[1]) => newPartnerWithWebhook(system, receiver, 'hooks', path, respond);

  const deliveriesOf = (relationshipId: string) =>
    system.db.webhookDelivery.findMany({ where: { relationshipId }, include: { attemptLog: { orderBy: { attempt: 'asc' } } }, orderBy: { createdAt: 'asc' } });

  it('delivers every transition, each signed so the receiver can verify it', async () => {
    const path = `/${unique('ok')}`;
    const partner = await partnerWithWebhook(path, () => 204);
    const { to, id, workflowId } = await onboardActiveRelationship(system, { partner, to: customer('signed') });
    const ended = await partner.api.post(`/api/v1/relationships/${id}/terminate`, { reason: 'Contract over' });
    expect(ended.status).toBe(200);

    const hooks = await waitFor(() => (receiver.at(path).length >= 4 ? receiver.at(path) : undefined), { what: 'four webhooks' });
    const events = hooks.map((hook) => JSON.parse(hook.body) as RelationshipWebhookEvent).sort((a, b) => a.data.transition.seq - b.data.transition.seq);
    expect(events.map((e) => e.type)).toEqual(['relationship.invited', 'relationship.accepted', 'relationship.active', 'relationship.terminated']);
    for (const hook of hooks) {
      expect(hook.check).toMatchObject({ ok: true });
      const event = JSON.parse(hook.body) as RelationshipWebhookEvent;
      expect(hook.headers[DELIVERY_HEADER.toLowerCase()]).toBe(event.id);
      expect(hook.headers[EVENT_HEADER.toLowerCase()]).toBe(event.type);
      expect(hook.headers['content-type']).toBe('application/json');
      expect(event.id).toBe(`${workflowId}-transition-${event.data.transition.seq}`);
      expect(event.data).toMatchObject({ relationshipId: id, partnerId: partner.id, tenantDomain: to.tenantDomain });
    }
    expect(events.at(-1)?.data.transition).toMatchObject({ from: 'active', to: 'terminated', reason: 'Contract over', actor: { type: 'partner' } });

    // What a receiver must refuse: a changed body, another secret, a replay from the past.
    const hook = hooks[0];
    const signature = String(hook?.headers['partnerflow-signature']);
    expect(verifyWebhook(partner.webhookSecret, signature, hook?.body.replace('invited', 'active') ?? '')).toEqual({ ok: false, reason: 'signatureMismatch' });
    expect(verifyWebhook('another-secret', signature, hook?.body ?? '')).toEqual({ ok: false, reason: 'signatureMismatch' });
    expect(verifyWebhook(partner.webhookSecret, signature, hook?.body ?? '', { now: (hook?.receivedAt ?? 0) + 301_000 })).toEqual({
      ok: false,
      reason: 'timestampOutOfRange',
    });

    const rows = await waitFor(async () => {
      const found = await deliveriesOf(id);
      return found.length === 4 && found.every((d) => d.status === 'delivered') ? found : undefined;
    }, { what: 'four delivered rows' });
    for (const row of rows) {
      expect(row).toMatchObject({ attempts: 1, lastStatusCode: 204, lastError: null });
      expect(row.deliveredAt).toBeInstanceOf(Date);
      expect(row.attemptLog).toMatchObject([{ attempt: 1, statusCode: 204, error: null }]);
    }
  });

  it('retries a failing endpoint with backoff, records every attempt, then marks the delivery failed', async () => {
    const path = `/${unique('fail')}`;
    const partner = await partnerWithWebhook(path, () => 500);
    const { id, workflowId } = await offer(system, partner, customer('failing'));
    const jobId = `${workflowId}-transition-1`;

    const [failed] = await waitFor(async () => {
      const found = await deliveriesOf(id);
      return found[0]?.status === 'failed' ? found : undefined;
    }, { what: 'the delivery marked failed' });
    expect(failed).toMatchObject({ attempts: ATTEMPTS, lastStatusCode: 500, lastError: 'HTTP 500', deliveredAt: null });
    expect(failed?.attemptLog.map((a) => [a.attempt, a.statusCode, a.error])).toEqual([
      [1, 500, 'HTTP 500'],
      [2, 500, 'HTTP 500'],
      [3, 500, 'HTTP 500'],
    ]);
    for (const attempt of failed?.attemptLog ?? []) expect(attempt.durationMs).toBeGreaterThanOrEqual(0);

    const hooks = receiver.at(path);
    expect(hooks).toHaveLength(ATTEMPTS);
    expect(hooks.every((hook) => hook.check.ok)).toBe(true);
    // Backed off: the retries are spread out, not fired back to back (first delay 200 ms, jitter halves at most).
    const gaps = hooks.slice(1).map((hook, i) => hook.receivedAt - (hooks[i]?.receivedAt ?? 0));
    expect(gaps.every((gap) => gap >= 90)).toBe(true);
    // The row is marked before BullMQ moves the job, so wait for the job's own state.
    await waitFor(async () => (await (await system.webhookQueue.getJob(jobId))?.getState()) === 'failed', { what: 'the webhook job failed in BullMQ' });
    // Read the job again: a copy fetched before it moved holds the old counters.
    const job = await system.webhookQueue.getJob(jobId);
    expect(job?.attemptsMade).toBe(ATTEMPTS);
  });

  it('does not retry a 4xx other than 408/429', async () => {
    const path = `/${unique('gone')}`;
    const partner = await partnerWithWebhook(path, () => 410);
    const { id } = await offer(system, partner, customer('gone'));
    const [failed] = await waitFor(async () => {
      const found = await deliveriesOf(id);
      return found[0]?.status === 'failed' ? found : undefined;
    }, { what: 'the delivery marked failed' });
    expect(failed).toMatchObject({ attempts: 1, lastStatusCode: 410 });
    expect(failed?.attemptLog).toHaveLength(1);
    expect(receiver.at(path)).toHaveLength(1);
  });

  it('records an endpoint that refuses connections: no status code, the socket error, retried', async () => {
    const closed = await startWebhookReceiver();
    const url = closed.endpoint('/gone-away', () => 204);
    await closed.close();
    const partner = await newPartner(system, 'down', { webhookUrl: url });
    const { id } = await offer(system, partner, customer('down'));
    const [failed] = await waitFor(async () => {
      const found = await deliveriesOf(id);
      return found[0]?.status === 'failed' ? found : undefined;
    }, { what: 'the delivery marked failed' });
    expect(failed).toMatchObject({ attempts: ATTEMPTS, lastStatusCode: null });
    expect(failed?.attemptLog.map((a) => a.error)).toEqual(Array.from({ length: ATTEMPTS }, () => expect.stringMatching(/ECONNREFUSED/) as unknown));
  });

  it('shows both queues on Bull Board, to the operator only', async () => {
    const url = `${system.baseUrl}/admin/queues`;
    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`operator:${password}`).toString('base64')}` });
    expect((await fetch(url, { headers: basic('not-the-token-at-all') })).status).toBe(401);
    expect((await fetch(`${url}/api/queues`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);

    const page = await fetch(url, { headers: basic(system.operatorToken) });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    const api = await fetch(`${url}/api/queues`, { headers: { authorization: `Bearer ${system.operatorToken}` } });
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as { queues: { name: string }[] };
    expect(queues.map((q) => q.name).sort()).toEqual(['mail', 'webhooks']);
  });

  // Last: it stops the worker.
  it('shutdown waits for a delivery in flight to finish', async () => {
    const path = `/${unique('slow')}`;
    let release: (() => void) | undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const partner = await partnerWithWebhook(path, async () => {
      await released;
      return 200;
    });
    const { id } = await offer(system, partner, customer('drain'));
    await waitFor(() => receiver.at(path).length === 1, { what: 'the webhook request to arrive' });

    let stoppedAt: number | undefined;
    const stopping = system.stopWorker().then(() => (stoppedAt = Date.now()));
    // The one bounded wait here: a worker that did not drain would be gone well within it.
    const early = await Promise.race([stopping.then(() => 'stopped'), new Promise((resolve) => setTimeout(resolve, 1000, 'draining'))]);
    expect(early).toBe('draining');
    release?.();
    await stopping;

    const [row] = await deliveriesOf(id);
    expect(row).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200 });
    expect(row?.attemptLog).toMatchObject([{ attempt: 1, statusCode: 200 }]);
    expect(row?.attemptLog[0]?.createdAt.getTime()).toBeLessThanOrEqual(stoppedAt ?? 0);
    expect(await (await system.webhookQueue.getJob(row?.jobId ?? ''))?.getState()).toBe('completed');
  });
});
