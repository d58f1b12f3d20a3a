import { Queue, type ConnectionOptions } from 'bullmq';
import { MAIL_QUEUE, WEBHOOK_QUEUE } from '../contract/taskQueues.js';
import type { MailJob } from '../mail/mailJob.js';
import type { WebhookJob } from '../webhooks/webhookOutbox.js';
import type { Logger } from './logger.js';

export function createMailQueue(connection: ConnectionOptions, prefix: string, log: Logger): Queue<MailJob> {
  const queue = new Queue<MailJob>(MAIL_QUEUE, { connection, prefix });
  queue.on('error', (err) => log.error({ event: 'queue.error', queue: MAIL_QUEUE, err }, 'mail queue error'));
  return queue;
}

export function createWebhookQueue(connection: ConnectionOptions, prefix: string, log: Logger): Queue<WebhookJob> {
  const queue = new Queue<WebhookJob>(WEBHOOK_QUEUE, { connection, prefix });
  queue.on('error', (err) => log.error({ event: 'queue.error', queue: WEBHOOK_QUEUE, err }, 'webhook queue error'));
  return queue;
}
