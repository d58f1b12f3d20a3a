import { describe, expect, it } from 'vitest';
import { emailSamples } from '../emails/emailSamples.js';
import { createRecipientQuota } from '../src/mail/recipientQuota.js';
import { customer, mailsTo, newPartner, offer, registerTenant, subjects, unique, type Offer } from './support/relationshipDriver.js';
import { askSignIn, mailSubjects } from './support/tenantDriver.js';
import { useTestSystem } from './support/useTestSystem.js';
import { waitFor } from './support/waitFor.js';

// Issue 10, item 3 (mail quotas). A partner's invitation emails per hour are
// refused at the API (429 partnerMailQuota) beyond PARTNER_MAIL_PER_HOUR; any one
// address's emails per hour beyond RECIPIENT_MAIL_PER_HOUR wait in the queue for
// the next hour, except the ones the recipient asks for (sign-in), which still go.

const HOUR_MS = 3_600_000;

/** Both quotas count per clock hour: start clear of the turn of an hour so one test sees one window. */
const clearOfHourTurn = () => waitFor(() => HOUR_MS - (Date.now() % HOUR_MS) > 30_000, { timeoutMs: 40_000, intervalMs: 1_000, what: 'the turn of the hour to pass' });

describe('mail quotas', () => {
  const system = useTestSystem('mail-quotas', { env: { PARTNER_MAIL_PER_HOUR: '2', RECIPIENT_MAIL_PER_HOUR: '2' } });

  it("a partner's third invitation email in an hour is a 429 that changes nothing; other partners are not affected", async () => {
    await clearOfHourTurn();
    const partner = await newPartner(system, 'quota');
    const first = await offer(system, partner, customer('quota-a'));
    await offer(system, partner, customer('quota-b'));

    const third = customer('quota-c');
    await registerTenant(system, third);
    const refused = await partner.api.post('/api/v1/relationships', { customer: third, roles: ['user-administrator'] });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.json).toMatchObject({ type: '/problems/partnerMailQuota', status: 429, limit: 2 });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await system.db.relationship.count({ where: { partnerId: partner.id } })).toBe(2);

    // A resend would email an invitation too: refused the same way, before the workflow is asked.
    const resend = await partner.api.post(`/api/v1/relationships/${first.id}/resend`, {});
    expect(resend.status).toBe(429);
    expect(resend.json).toMatchObject({ type: '/problems/partnerMailQuota' });

    const other = await newPartner(system, 'quota-other');
    await offer(system, other, customer('quota-d'));
  });

  it('an offer replayed under its Idempotency-Key (its answer lost with the API) is not charged again', async () => {
    await clearOfHourTurn();
    const partner = await newPartner(system, 'quota-replay');
    const first = customer('quota-replay-a');
    await registerTenant(system, first);
    const headers = { 'Idempotency-Key': 'quota-replay-1' };
    const body = { customer: first, roles: ['user-administrator'] };
    expect((await partner.api.post('/api/v1/relationships', body, headers)).status).toBe(201);
    // The answer kept under the key is gone, as after an API killed before keeping it: the retry runs again.
    const kept = await system.redis.keys(`${system.config.QUEUE_PREFIX}:idempotency:*`);
    expect(kept.length).toBeGreaterThan(0);
    await system.redis.del(...kept);
    const replayed = await partner.api.post('/api/v1/relationships', body, headers);
    expect(replayed.status, replayed.text).toBe(201);
    // One email charged so far, so the second offer of the hour is still within the quota of 2.
    await offer(system, partner, customer('quota-replay-b'));
    expect(await system.db.partner.findUniqueOrThrow({ where: { id: partner.id } })).toMatchObject({ mailSent: 2 });
  });

  it('an address gets at most its hourly quota; the rest waits in the queue, and a sign-in link still arrives', async () => {
    await clearOfHourTurn();
    const victim = `victim@${unique('inbox')}.example.com`;
    // Three partners (each within its own quota) invite the same contact for three tenants.
    const offers: Offer[] = [];
    for (const label of ['r1', 'r2', 'r3']) {
      const partner = await newPartner(system, label);
      offers.push(await offer(system, partner, { ...customer(label), adminEmail: victim }));
    }
    const invitations = () => mailsTo(system, victim, subjects.invitation);
    await waitFor(() => invitations().length >= 2, { what: 'two invitations to the address' });

    // The third is held, not lost: its job waits (delayed) for the next hour, and its row says why.
    const held = await waitFor(
      async () => {
        for (const { workflowId } of offers) {
          const jobId = `${workflowId}-invitation-1`;
          const job = await system.mailQueue.getJob(jobId);
          if ((await job?.getState()) === 'delayed') return { job, row: await system.db.emailMessage.findUnique({ where: { jobId } }) };
        }
        return undefined;
      },
      { what: 'the third invitation held back' },
    );
    expect(held.row).toMatchObject({ status: 'queued', error: expect.stringMatching(/deferred until .*recipient's hourly quota/) as unknown });
    const nextHour = (Math.floor(Date.now() / HOUR_MS) + 1) * HOUR_MS;
    expect((held.job?.timestamp ?? 0) + (held.job?.delay ?? 0)).toBeGreaterThanOrEqual(nextHour);

    // The recipient asks for a sign-in link: it is not held back by the flood aimed at the inbox.
    const tenantDomain = offers[0] ? (await system.db.relationship.findUniqueOrThrow({ where: { id: offers[0].id } })).tenantDomain : '';
    await askSignIn(system, tenantDomain, victim);
    await system.smtp.waitForMail((m) => m.to.includes(victim) && mailSubjects.signIn.test(m.parsed.subject ?? ''), 'the sign-in email despite the quota');
    expect(invitations()).toHaveLength(2);
  });

  it("a partner's news of its own relationships is never held by the recipient quota; a customer's is", async () => {
    {
      const quota = createRecipientQuota(system.redis, `${system.config.QUEUE_PREFIX}-unit`, 2);
      const partnerAddress = `ops@${unique('busy')}.partner.example`;
      const customerAddress = `admin@${unique('inbox')}.example.com`;
      const now = Date.now();
      for (let i = 0; i < 5; i++) {
        expect(await quota.take({ template: 'accepted', to: partnerAddress, data: emailSamples.accepted }, now)).toBeNull();
        expect(await quota.take({ template: 'removed', to: partnerAddress, data: { ...emailSamples.removed, recipient: 'partner' } }, now)).toBeNull();
      }
      const toCustomer = { template: 'removed' as const, to: customerAddress, data: { ...emailSamples.removed, recipient: 'customer' as const } };
      expect(await quota.take(toCustomer, now)).toBeNull();
      expect(await quota.take(toCustomer, now)).toBeNull();
      expect(await quota.take(toCustomer, now)).toBeGreaterThan(now);
    }
  });
});
