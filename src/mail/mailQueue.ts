import type { ConnectionOptions, Queue } from 'bullmq';
import type { Logger } from '../infra/logger.js';
import { openQueue } from '../infra/queue.js';
import type { MailJob } from './mailJob.js';

/** The BullMQ queue name; the key prefix (QUEUE_PREFIX) separates deployments sharing one Redis. */
export const MAIL_QUEUE = 'mail';

export type MailQueue = Queue<MailJob>;

export function createMailQueue(connection: ConnectionOptions, prefix: string, log: Logger): MailQueue {
  return openQueue<MailJob>(MAIL_QUEUE, connection, prefix, log);
}
