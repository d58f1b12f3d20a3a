import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { terminateUpdate } from '../../src/contract/messages.js';
import { ensureDatabase, runMigrations } from '../../src/infra/migrationRunner.js';
import type { MailJob } from '../../src/mail/mailJob.js';
import type { RelationshipWebhookEvent } from '../../src/webhooks/webhookEvent.js';
import { DELIVERY_HEADER } from '../../src/webhooks/webhookSignature.js';
import { usePrivateRedis } from '../support/privateRedis.js';
import { customer, onboardActiveRelationship, unique } from '../support/relationshipDriver.js';
import { databaseUrlFor, dropDatabase, uniqueDatabaseName } from '../support/scratchDatabases.js';
import { useSuiteResource } from '../support/suiteResource.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { waitFor } from '../support/waitFor.js';
import { newPartnerWithWebhook, useWebhookReceiver } from '../support/webhookReceiver.js';

// The outbox when Redis is not there (issue 12): a webhook row commits with the
// read-model change it tells of, a step never waits on Redis, and the worker's
// outbox sweeper hands over whatever Redis never got. On a Redis of this file's
// own, which it stops and starts, and a database of its own (the sweeper reads
// every queued row of its database, so it must not see other files' rows).

const SWEEP_SECONDS = 1;
const GRACE_SECONDS = 2;
/** A step's hand-over waits 2 s for Redis at most; the rest is the workflow's own work. */
const PROMPT_MS = 10_000;

describe('outbox faults', () => {
  const redis = usePrivateRedis();
  const database = useSuiteResource(
    'a database of its own',
    async () => {
      const name = uniqueDatabaseName('outbox');
      const url = databaseUrlFor(name);
      await ensureDatabase(url);
      await runMigrations(url);
      return { name, url };
    },
    (db) => dropDatabase(db.name),
  );
  const receiver = useWebhookReceiver();
  const system = useTestSystem('outbox', () => ({
    env: {
      REDIS_URL: redis.url,
      DATABASE_URL: database.url,
      OUTBOX_SWEEP_INTERVAL_SECONDS: String(SWEEP_SECONDS),
      OUTBOX_SWEEP_GRACE_SECONDS: String(GRACE_SECONDS),
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_BACKOFF_MS: '200',
    },
  }));

  const receivedIds = (path: string) => receiver.at(path).map((hook) => String(hook.headers[DELIVERY_HEADER.toLowerCase()]));
  /** Two more sweeps than it took, so a second delivery would have had its chance. */
  const afterTwoSweeps = () => new Promise((resolve) => setTimeout(resolve, 2 * SWEEP_SECONDS * 1000 + 500));

  it('a terminate while Redis is down returns promptly and ends access; its webhook waits in Postgres and arrives once when Redis is back', async () => {
    const path = `/${unique('down')}`;
    const partner = await newPartnerWithWebhook(system, receiver, 'down', path, () => 204);
    const { id, workflowId, handle } = await onboardActiveRelationship(system, { partner, to: customer('down') });
    await waitFor(() => receiver.at(path).length >= 3 || undefined, { what: 'the first three webhooks' });
    const terminatedId = `${workflowId}-transition-4`;

    await redis.stop();
    let redisDown = true;
    try {
      const started = Date.now();
      const state = await Promise.race([
        handle.executeUpdate(terminateUpdate, { args: [{ actor: { type: 'partner', id: partner.id }, reason: 'Redis is down' }] }),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the terminate did not return within ${3 * PROMPT_MS} ms`)), 3 * PROMPT_MS)),
      ]);
      expect(state.status).toBe('terminated');
      expect(Date.now() - started).toBeLessThan(PROMPT_MS);

      // Access ends with the commit, Redis or not; the webhook's row committed with it.
      await waitFor(async () => (await system.db.relationship.findUnique({ where: { id } }))?.status === 'terminated' || undefined, { what: 'the read model terminated' });
      expect(await system.db.roleGrant.count({ where: { relationshipId: id, revokedAt: null } })).toBe(0);
      expect(await system.db.webhookDelivery.findUnique({ where: { jobId: terminatedId } })).toMatchObject({ status: 'queued', attempts: 0 });
      expect(receivedIds(path)).not.toContain(terminatedId);

      await redis.start();
      redisDown = false;
    } finally {
      if (redisDown) await redis.start();
    }
    await waitFor(() => receivedIds(path).includes(terminatedId) || undefined, { what: 'the terminated webhook after Redis is back' });
    await afterTwoSweeps();
    expect(receivedIds(path).filter((hookId) => hookId === terminatedId)).toHaveLength(1);
    const hook = receiver.at(path).find((h) => String(h.headers[DELIVERY_HEADER.toLowerCase()]) === terminatedId);
    expect((JSON.parse(hook?.body ?? '{}') as RelationshipWebhookEvent).type).toBe('relationship.terminated');
    expect(await system.db.webhookDelivery.findUnique({ where: { jobId: terminatedId } })).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('a webhook row and an email row Redis never saw are swept and delivered once each', async () => {
    const path = `/${unique('swept')}`;
    const partner = await newPartnerWithWebhook(system, receiver, 'swept', path, () => 204);
    // What a crash between the commit and the hand-over leaves: rows, and no job in Redis.
    const hookId = `partner-${partner.id}-swept-${randomUUID()}`;
    const event = { id: hookId, type: 'partner.resumed', createdAt: new Date().toISOString(), data: { partnerId: partner.id } };
    await system.db.webhookDelivery.create({ data: { jobId: hookId, partnerId: partner.id, url: `${receiver.endpoint(path, () => 204)}`, event: event.type, payload: event, status: 'queued' } });
    const to = `${unique('swept')}@contoso.example`;
    const mailId = `partner-${partner.id}-swept-mail-${randomUUID()}`;
    const job: MailJob = { template: 'partnerResumed', to, data: { partnerName: partner.name, partnerId: partner.id, resumedAt: new Date().toISOString(), reason: 'swept' } };
    await system.db.emailMessage.create({ data: { jobId: mailId, template: job.template, toAddress: to, status: 'queued', job: { ...job } } });
    expect(await system.webhookQueue.getJob(hookId)).toBeUndefined();
    expect(await system.mailQueue.getJob(mailId)).toBeUndefined();

    await waitFor(() => receivedIds(path).includes(hookId) || undefined, { what: 'the swept webhook' });
    await system.smtp.waitForMail((m) => m.to.includes(to), 'the swept email');
    await afterTwoSweeps();
    expect(receivedIds(path).filter((received) => received === hookId)).toHaveLength(1);
    expect(system.smtp.messages.filter((m) => m.to.includes(to))).toHaveLength(1);
    expect(await system.db.webhookDelivery.findUnique({ where: { jobId: hookId } })).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(await system.db.emailMessage.findUnique({ where: { jobId: mailId } })).toMatchObject({ status: 'sent', attempts: 1 });
  });
});
