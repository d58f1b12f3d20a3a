import { Queue, type ConnectionOptions } from 'bullmq';
import type { Logger } from './logger.js';

/**
 * A BullMQ queue on a connection the composition root owns, its errors
 * logged. The feature that owns a queue names it and types its jobs
 * (src/mail/mailQueue.ts, src/webhooks/webhookQueue.ts).
 */
export function openQueue<Job>(name: string, connection: ConnectionOptions, prefix: string, log: Logger): Queue<Job> {
  const queue = new Queue<Job>(name, { connection, prefix });
  queue.on('error', (err) => log.error({ event: 'queue.error', queue: name, err }, `${name} queue error`));
  return queue;
}
