import { Redis } from 'ioredis';
import type { Database } from '../infra/database.js';
import { createOutbox } from '../infra/outbox.js';
import type { MailJob } from './mailJob.js';
import { mailPriority } from './mailPriority.js';
import type { MailQueue } from './mailQueue.js';

/**
 * Enqueues email for the mail worker. The job id (derived from the workflow ID
 * and step) makes a retried enqueue a no-op; the `email_messages` row keeps
 * that promise after Redis forgets finished jobs (src/infra/outbox.ts).
 */
export interface MailOutbox {
  enqueue(jobId: string, job: MailJob): Promise<void>;
  /** True once this job id was handed to the queue (or already sent/failed). */
  isEnqueued(jobId: string): Promise<boolean>;
}

export class MailQueueConnectionError extends Error {
  constructor() {
    super('the mail queue must be created on an ioredis client (createMailQueue(redis, ...)): the outbox counts senders on it');
    this.name = 'MailQueueConnectionError';
  }
}

export function createMailOutbox(db: Database, queue: MailQueue): MailOutbox {
  // The queue's own connection: no second client, and callers keep one constructor argument.
  const redis = queue.opts.connection;
  if (!(redis instanceof Redis)) throw new MailQueueConnectionError();
  const prefix = queue.opts.prefix ?? 'bull';
  const outbox = createOutbox(queue, {
    async insert(row: { jobId: string; template: string; toAddress: string; relationshipId: string | null }) {
      const created = await db.emailMessage.createMany({ data: [{ ...row, status: 'queued' }], skipDuplicates: true });
      return created.count > 0;
    },
    async stateOf(jobId) {
      const row = await db.emailMessage.findUnique({ where: { jobId }, select: { status: true } });
      if (!row) return 'unknown';
      return row.status === 'queued' ? 'queued' : 'finished';
    },
  });
  return {
    enqueue: (jobId, job) =>
      outbox.enqueue({
        jobId,
        name: job.template,
        job,
        row: { jobId, template: job.template, toAddress: job.to, relationshipId: job.relationshipId ?? null },
        // One global send rate serves everyone: a sender's recent volume pushes its own emails back,
        // so another partner's first invitation (or a customer's sign-in link) does not wait behind a burst.
        options: async () => ({
          priority: await mailPriority(redis, prefix, job),
          attempts: 8,
          backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
        }),
      }),
    isEnqueued: (jobId) => outbox.isEnqueued(jobId),
  };
}
