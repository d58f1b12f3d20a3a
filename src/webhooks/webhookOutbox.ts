import type { Queue } from 'bullmq';
import type { RecordTransitionInput } from '../activities/readModel.js';
import type { Database } from '../infra/database.js';
import { transitionEvent } from './webhookEvent.js';

/** What sits on the webhook queue: enough to read in a dashboard. Body, URL and secret stay in Postgres. */
export interface WebhookJob {
  event: string;
  partnerId: string;
  relationshipId: string;
}

export interface WebhookRetryPolicy {
  attempts: number;
  /** First retry delay; each further one doubles, with jitter. */
  backoffMs: number;
}

/**
 * Queues one webhook per transition for partners that configured a URL. The
 * delivery row (keyed like the BullMQ job, by workflow ID + transition seq) is
 * written first, so a retried activity finds it and at most re-adds a job that
 * Redis already holds, which BullMQ ignores.
 */
export interface WebhookOutbox {
  enqueueTransition(input: RecordTransitionInput): Promise<void>;
}

const DAY_SECONDS = 86_400;

export function createWebhookOutbox(db: Database, queue: Queue<WebhookJob>, retry: WebhookRetryPolicy): WebhookOutbox {
  return {
    async enqueueTransition({ workflowId, relationshipId, transition, snapshot }) {
      const rel = await db.relationship.findUnique({
        where: { id: relationshipId },
        select: { partnerId: true, tenantDomain: true, roles: true, partner: { select: { webhookUrl: true } } },
      });
      const url = rel?.partner.webhookUrl;
      if (!rel || !url) return;

      const event = transitionEvent({ workflowId, relationshipId, partnerId: rel.partnerId, tenantDomain: rel.tenantDomain, roles: rel.roles, transition, snapshot });
      const jobId = event.id;
      const created = await db.webhookDelivery.createMany({
        data: [{ jobId, partnerId: rel.partnerId, relationshipId, url, event: event.type, payload: event, status: 'queued' }],
        skipDuplicates: true,
      });
      if (created.count === 0) {
        // Already recorded: once finished, Redis may have forgotten the job; adding it again would send twice.
        const existing = await db.webhookDelivery.findUnique({ where: { jobId }, select: { status: true } });
        if (existing?.status === 'delivered' || existing?.status === 'failed') return;
      }
      await queue.add(
        event.type,
        { event: event.type, partnerId: rel.partnerId, relationshipId },
        {
          jobId,
          attempts: retry.attempts,
          backoff: { type: 'exponential', delay: retry.backoffMs, jitter: 0.5 },
          removeOnComplete: { age: 30 * DAY_SECONDS },
          removeOnFail: { age: 30 * DAY_SECONDS },
        },
      );
    },
  };
}
