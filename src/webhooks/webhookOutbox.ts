import type { RecordTransitionInput } from '../contract/relationship.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Database } from '../infra/database.js';
import { createOutbox } from '../infra/outbox.js';
import { transitionEvent } from './webhookEvent.js';
import type { PartnerWebhookEvent } from './partnerWebhookEvent.js';
import type { WebhookQueue } from './webhookQueue.js';

export interface WebhookRetryPolicy {
  attempts: number;
  /** First retry delay; each further one doubles, with jitter. */
  backoffMs: number;
}

/**
 * Queues one webhook per transition for partners that configured a URL. The
 * delivery row (keyed like the BullMQ job, by workflow ID + transition seq)
 * is written first (src/infra/outbox.ts), so a retried activity finds it.
 */
export interface WebhookOutbox {
  enqueueTransition(input: RecordTransitionInput): Promise<void>;
  /** An event about the partner itself (paused, resumed), keyed by its id; nothing when the partner has no URL. */
  enqueuePartnerEvent(event: PartnerWebhookEvent): Promise<void>;
}

export function createWebhookOutbox(db: Database, queue: WebhookQueue, retry: WebhookRetryPolicy): WebhookOutbox {
  const outbox = createOutbox(queue, {
    async insert(row: Prisma.WebhookDeliveryCreateManyInput) {
      const created = await db.webhookDelivery.createMany({ data: [row], skipDuplicates: true });
      return created.count > 0;
    },
    async stateOf(jobId) {
      const row = await db.webhookDelivery.findUnique({ where: { jobId }, select: { status: true } });
      if (!row) return 'unknown';
      return row.status === 'delivered' || row.status === 'failed' ? 'finished' : 'queued';
    },
  });
  const options = () => ({ attempts: retry.attempts, backoff: { type: 'exponential', delay: retry.backoffMs, jitter: 0.5 } });
  return {
    async enqueueTransition({ workflowId, relationshipId, transition, snapshot }) {
      const rel = await db.relationship.findUnique({
        where: { id: relationshipId },
        select: { partnerId: true, tenantDomain: true, roles: true, partner: { select: { webhookUrl: true } } },
      });
      const url = rel?.partner.webhookUrl;
      if (!rel || !url) return;

      const event = transitionEvent({ workflowId, relationshipId, partnerId: rel.partnerId, tenantDomain: rel.tenantDomain, roles: rel.roles, transition, snapshot });
      await outbox.enqueue({
        jobId: event.id,
        name: event.type,
        job: { event: event.type, partnerId: rel.partnerId, relationshipId },
        row: { jobId: event.id, partnerId: rel.partnerId, relationshipId, url, event: event.type, payload: event, status: 'queued' },
        options,
      });
    },
    async enqueuePartnerEvent(event) {
      const { partnerId } = event.data;
      const url = (await db.partner.findUnique({ where: { id: partnerId }, select: { webhookUrl: true } }))?.webhookUrl;
      if (!url) return;
      await outbox.enqueue({
        jobId: event.id,
        name: event.type,
        job: { event: event.type, partnerId },
        row: { jobId: event.id, partnerId, relationshipId: null, url, event: event.type, payload: event, status: 'queued' },
        options,
      });
    },
  };
}
