import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deadLetterListSchema, deadLetterSchema } from '../../src/operator/deadLetterSchemas.js';
import { runOperatorCli } from '../../src/operator/cli/operatorCli.js';
import { DELIVERY_HEADER } from '../../src/webhooks/webhookSignature.js';
import { expectShape } from '../api/apiHarness.js';
import { apiClient } from '../support/http.js';
import { unique } from '../support/relationshipDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { waitFor } from '../support/waitFor.js';
import { newPartnerWithWebhook, useWebhookReceiver } from '../support/webhookReceiver.js';

// Dead letters (issue 12): an email or webhook whose retries ran out is never
// lost silently. The operator sees it (the list, the CLI, the
// partnerflow_dead_letters metric) and sends it again under the same delivery id.

describe('dead letters', () => {
  const receiver = useWebhookReceiver();
  const system = useTestSystem('dead-letters', { env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_ATTEMPTS: '2', WEBHOOK_BACKOFF_MS: '100' } });
  const operator = () => apiClient(system.baseUrl, system.operatorToken);

  /** The operator command in-process against this system's API; its exit code and what it printed. */
  async function cli(...args: string[]) {
    const out: string[] = [];
    const code = await runOperatorCli(args, {
      env: { PARTNERFLOW_URL: system.baseUrl, OPERATOR_TOKEN: system.operatorToken },
      out: (line) => out.push(line),
      err: (line) => out.push(line),
    });
    return { code, out: out.join('\n') };
  }

  async function metric(kind: string): Promise<number> {
    const res = await operator().get('/metrics');
    expect(res.status).toBe(200);
    const line = res.text.split('\n').find((l) => l.startsWith(`partnerflow_dead_letters{kind="${kind}"}`));
    expect(line, res.text.slice(0, 500)).toBeDefined();
    return Number(line?.split(' ').at(-1));
  }

  it('a webhook whose retries ran out is listed, counted and, once the endpoint is back, sent again once under its delivery id', async () => {
    let answer = 500;
    const path = `/${unique('dead')}`;
    const partner = await newPartnerWithWebhook(system, receiver, 'dead', path, () => answer);
    const paused = await operator().post(`/api/v1/admin/partners/${partner.id}/pause`, { reason: 'dead letter test' });
    expect(paused.status, paused.text).toBe(200);
    const row = await waitFor(
      async () => {
        const found = await system.db.webhookDelivery.findFirst({ where: { partnerId: partner.id, event: 'partner.paused' } });
        return found?.status === 'failed' ? found : undefined;
      },
      { what: 'the partner.paused webhook to fail for good' },
    );
    expect(receiver.at(path)).toHaveLength(2);
    expect(await metric('webhook')).toBeGreaterThanOrEqual(1);

    const listed = await cli('dead-letters', 'list', '--kind', 'webhook', '--limit', '500', '--json');
    expect(listed.code, listed.out).toBe(0);
    const list = expectShape(deadLetterListSchema, JSON.parse(listed.out));
    expect(list.deadLetters.find((d) => d.id === row.id)).toMatchObject({ kind: 'webhook', jobId: row.jobId, what: 'partner.paused', attempts: 2 });
    expect(list.deadLetters.every((d) => d.kind === 'webhook')).toBe(true);
    expect(list.counts.webhook).toBeGreaterThanOrEqual(1);
    const table = await cli('dead-letters', 'list', '--kind', 'webhook', '--limit', '500');
    expect(table.out).toContain(row.id);

    answer = 204;
    const retried = await cli('dead-letters', 'retry', 'webhook', row.id);
    expect(retried.code, retried.out).toBe(0);
    expect(retried.out).toContain(`webhook ${row.jobId} (partner.paused`);
    await waitFor(async () => (await system.db.webhookDelivery.findUnique({ where: { id: row.id } }))?.status === 'delivered' || undefined, { what: 'the retried webhook delivered' });
    const ids = receiver.at(path).map((h) => String(h.headers[DELIVERY_HEADER.toLowerCase()]));
    expect(ids).toEqual([row.jobId, row.jobId, row.jobId]);
    expect(receiver.at(path).at(-1)?.check).toMatchObject({ ok: true });

    // Sent again already: nothing to retry, and a second retry sends nothing.
    const again = await cli('dead-letters', 'retry', 'webhook', row.id);
    expect(again.code).not.toBe(0);
    expect(again.out).toMatch(/404 .*No webhook dead letter/);
    expect(receiver.at(path)).toHaveLength(3);
  });

  it('an email given up is listed and sent again; unknown ids and kinds are refused', async () => {
    const to = `${unique('deadmail')}@contoso.example`;
    const job = { template: 'partnerResumed', to, data: { partnerName: 'Dead Letter Partner', partnerId: randomUUID(), resumedAt: new Date().toISOString(), reason: 'retry test' } };
    // What the mail worker leaves when an email's attempts ran out.
    const row = await system.db.emailMessage.create({
      data: { jobId: `dead-mail-${randomUUID()}`, template: job.template, toAddress: to, status: 'failed', attempts: 8, error: '421 try again later', job },
    });
    expect(await metric('mail')).toBeGreaterThanOrEqual(1);
    const listed = expectShape(deadLetterListSchema, (await operator().get('/api/v1/admin/dead-letters?kind=mail&limit=500')).json);
    expect(listed.deadLetters.find((d) => d.id === row.id)).toMatchObject({ kind: 'mail', what: 'partnerResumed', to, error: '421 try again later' });

    const retried = await operator().post(`/api/v1/admin/dead-letters/mail/${row.id}/retry`, {});
    expect(retried.status, retried.text).toBe(200);
    expectShape(deadLetterSchema, retried.json);
    await system.smtp.waitForMail((m) => m.to.includes(to), 'the retried email');
    await waitFor(async () => (await system.db.emailMessage.findUnique({ where: { id: row.id } }))?.status === 'sent' || undefined, { what: 'the email row sent' });
    expect(system.smtp.messages.filter((m) => m.to.includes(to))).toHaveLength(1);

    expect((await operator().post(`/api/v1/admin/dead-letters/mail/${randomUUID()}/retry`, {})).status).toBe(404);
    expect((await operator().post(`/api/v1/admin/dead-letters/sms/${row.id}/retry`, {})).status).toBe(400);
    expect((await operator().get('/api/v1/admin/dead-letters?limit=0')).status).toBe(400);
    const partnerKey = (await newPartnerWithWebhook(system, receiver, 'deadauth', `/${unique('deadauth')}`, () => 204)).api;
    expect((await partnerKey.get('/api/v1/admin/dead-letters')).status).toBe(403);
  });
});
