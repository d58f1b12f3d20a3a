import type { RecordTransitionsInput } from '../contract/relationship.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Database } from '../infra/database.js';
import type { Logger } from '../infra/logger.js';
import { createOutbox, type OutboxHandOver } from '../infra/outbox.js';
import { webhookDeadLetter, type DeadLetters } from '../infra/deadLetters.js';
import type { SweptOutbox } from '../infra/outboxSweeper.js';
import { transitionEvent } from './webhookEvent.js';
import type { PartnerWebhookEvent } from './partnerWebhookEvent.js';
import type { SubscriptionWebhookEvent } from './subscriptionWebhookEvent.js';
import type { TrialWebhookEvent } from './trialWebhookEvent.js';
import type { WebhookJob, WebhookQueue } from './webhookQueue.js';

type Tx = Prisma.TransactionClient;

export interface WebhookRetryPolicy {
  attempts: number;
  /** First retry delay; each further one doubles, with jitter. */
  backoffMs: number;
}

/** A transition's delivery row, written in the read model's transaction; handed to Redis after it commits. */
export type StagedWebhook = OutboxHandOver<WebhookJob>;

/**
 * Queues one webhook per transition for partners that configured a URL. The
 * delivery row (keyed like the BullMQ job, by workflow ID + transition seq)
 * is written in the transaction of the read-model change it tells of, and its
 * job handed to Redis after the commit (src/infra/outbox.ts): a crash between
 * the two, or Redis being down, leaves a `queued` row the outbox sweeper
 * hands over later, never a lost event.
 */
export interface WebhookOutbox {
  /**
   * The webhooks of transitions written in `tx` (one row each, one statement), to the partner's
   * URL read with the relationship (`target`, its `webhookUrl` null: nothing to stage).
   */
  stageTransitions(tx: Tx, input: RecordTransitionsInput, target: TransitionTarget): Promise<StagedWebhook[]>;
  /** After the commit: hands the staged job to Redis, waiting at most the outbox's hand-over bound. */
  handOver(staged: StagedWebhook): Promise<boolean>;
  /** An event about the partner itself (paused, resumed), keyed by its id; nothing when the partner has no URL. */
  enqueuePartnerEvent(event: PartnerWebhookEvent): Promise<void>;
  /**
   * An event about a relationship's subscription or partner-provisioned trial (docs/commerce.md),
   * keyed by its id: its row is written in `tx`, with the change it tells of; hand it over after
   * the commit. Null when the partner has no URL.
   */
  stageProvisioningEvent(tx: Tx, event: SubscriptionWebhookEvent | TrialWebhookEvent): Promise<StagedWebhook | null>;
  /** For the outbox sweeper: rows that still wait for delivery. */
  swept: SweptOutbox;
  /** Deliveries that failed for good, for the operator. */
  deadLetters: DeadLetters;
}

/** What a transition's webhook is addressed and worded from: its relationship and the partner's URL. */
export interface TransitionTarget {
  partnerId: string;
  tenantDomain: string;
  roles: string[];
  webhookUrl: string | null;
}

export interface WebhookOutboxOptions {
  log?: Logger;
  /** How long a hand-over after the read model's commit may wait for Redis (default 2 s). */
  handOverWithinMs?: number;
}

const WAITING = ['queued', 'retrying'];

export function createWebhookOutbox(db: Database, queue: WebhookQueue, retry: WebhookRetryPolicy, settings: WebhookOutboxOptions = {}): WebhookOutbox {
  const handOverWithinMs = settings.handOverWithinMs ?? 2_000;
  const outbox = createOutbox(
    queue,
    {
      async insert(row: Prisma.WebhookDeliveryCreateManyInput) {
        const created = await db.webhookDelivery.createMany({ data: [row], skipDuplicates: true });
        return created.count > 0;
      },
      async stateOf(jobId) {
        const row = await db.webhookDelivery.findUnique({ where: { jobId }, select: { status: true } });
        if (!row) return 'unknown';
        return row.status === 'delivered' || row.status === 'failed' ? 'finished' : 'queued';
      },
    },
    settings.log,
  );
  const options = () => ({ attempts: retry.attempts, backoff: { type: 'exponential', delay: retry.backoffMs, jitter: 0.5 } });
  const entryOf = (row: { jobId: string; event: string; partnerId: string; relationshipId: string | null }): StagedWebhook => ({
    jobId: row.jobId,
    name: row.event,
    job: { event: row.event, partnerId: row.partnerId, ...(row.relationshipId ? { relationshipId: row.relationshipId } : {}) },
    options,
  });

  return {
    async stageTransitions(tx, { workflowId, relationshipId, transitions, snapshot }, { partnerId, tenantDomain, roles, webhookUrl: url }) {
      if (!url || transitions.length === 0) return [];
      const rows = transitions.map((transition) => {
        const event = transitionEvent({ workflowId, relationshipId, partnerId, tenantDomain, roles, transition, snapshot });
        return { jobId: event.id, partnerId, relationshipId, url, event: event.type, payload: event, status: 'queued' };
      });
      await tx.webhookDelivery.createMany({ data: rows, skipDuplicates: true });
      return rows.map(entryOf);
    },
    handOver: (staged) => outbox.handOver(staged, handOverWithinMs),
    async enqueuePartnerEvent(event) {
      const { partnerId } = event.data;
      const url = (await db.partner.findUnique({ where: { id: partnerId }, select: { webhookUrl: true } }))?.webhookUrl;
      if (!url) return;
      const row = { jobId: event.id, partnerId, relationshipId: null, url, event: event.type, payload: event, status: 'queued' };
      await outbox.enqueue({ ...entryOf(row), row });
    },
    async stageProvisioningEvent(tx, event) {
      const { partnerId, relationshipId } = event.data;
      const url = (await tx.partner.findUnique({ where: { id: partnerId }, select: { webhookUrl: true } }))?.webhookUrl;
      if (!url) return null;
      const row = { jobId: event.id, partnerId, relationshipId, url, event: event.type, payload: event, status: 'queued' };
      await tx.webhookDelivery.createMany({ data: [row], skipDuplicates: true });
      return entryOf(row);
    },
    swept: {
      kind: 'webhook',
      async waiting(before, after, limit) {
        return db.webhookDelivery.findMany({
          where: { status: { in: WAITING }, updatedAt: { lt: before }, ...(after ? { jobId: { gt: after } } : {}) },
          select: { jobId: true },
          orderBy: { jobId: 'asc' },
          take: limit,
        }).then((rows) => rows.map((r) => r.jobId));
      },
      async requeue(jobId) {
        const row = await db.webhookDelivery.findUnique({ where: { jobId } });
        if (!row || !WAITING.includes(row.status)) return 'finished';
        if ((await queue.getJob(jobId)) !== undefined) return 'inRedis';
        await outbox.handOver(entryOf(row));
        return 'requeued';
      },
    },
    deadLetters: {
      kind: 'webhook',
      async list(limit) {
        const rows = await db.webhookDelivery.findMany({ where: { status: 'failed' }, orderBy: { updatedAt: 'desc' }, take: limit });
        return rows.map(webhookDeadLetter);
      },
      count: () => db.webhookDelivery.count({ where: { status: 'failed' } }),
      async retry(id) {
        const row = await db.webhookDelivery.findUnique({ where: { id } });
        if (row?.status !== 'failed') return null;
        const requeue = async () => (await db.webhookDelivery.updateMany({ where: { id, status: 'failed' }, data: { status: 'queued' } })).count > 0;
        return (await outbox.retryDead(entryOf(row), requeue)) ? webhookDeadLetter(row) : null;
      },
    },
  };
}
