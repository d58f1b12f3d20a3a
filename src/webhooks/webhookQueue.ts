import type { ConnectionOptions, Queue } from 'bullmq';
import type { Logger } from '../infra/logger.js';
import { openQueue } from '../infra/queue.js';

/** The BullMQ queue name; the key prefix (QUEUE_PREFIX) separates deployments sharing one Redis. */
export const WEBHOOK_QUEUE = 'webhooks';

/** What sits on the webhook queue: enough to read in a dashboard. Body, URL and secret stay in Postgres. */
export interface WebhookJob {
  event: string;
  partnerId: string;
  /** Absent on events about the partner itself (partner.paused, partner.resumed). */
  relationshipId?: string;
}

export type WebhookQueue = Queue<WebhookJob>;

export function createWebhookQueue(connection: ConnectionOptions, prefix: string, log: Logger): WebhookQueue {
  return openQueue<WebhookJob>(WEBHOOK_QUEUE, connection, prefix, log);
}
