import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Database } from '../infra/database.js';
import type { MailJob } from './mailJob.js';
import { mailPriority } from './mailPriority.js';

/**
 * Enqueues email for the mail worker. The job id (derived from the workflow ID
 * and step) makes a retried enqueue a no-op in Redis, and the Postgres row
 * keeps that promise after Redis forgets finished jobs.
 */
export interface MailOutbox {
  enqueue(jobId: string, job: MailJob): Promise<void>;
  /** True once this job id was handed to the queue (or already sent/failed). */
  isEnqueued(jobId: string): Promise<boolean>;
}

const DAY_SECONDS = 86_400;

export class MailQueueConnectionError extends Error {
  constructor() {
    super('the mail queue must be created on an ioredis client (createMailQueue(redis, ...)): the outbox counts senders on it');
    this.name = 'MailQueueConnectionError';
  }
}

export function createMailOutbox(db: Database, queue: Queue<MailJob>): MailOutbox {
  // The queue's own connection: no second client, and callers keep one constructor argument.
  const redis = queue.opts.connection;
  if (!(redis instanceof Redis)) throw new MailQueueConnectionError();
  const prefix = queue.opts.prefix ?? 'bull';
  return {
    async enqueue(jobId, job) {
      // INSERT ... ON CONFLICT DO NOTHING: two racing enqueues of one step (an activity retried
      // while its first run still goes) both succeed instead of one failing on the unique key.
      const created = await db.emailMessage.createMany({
        data: [{ jobId, template: job.template, toAddress: job.to, relationshipId: job.relationshipId ?? null, status: 'queued' }],
        skipDuplicates: true,
      });
      if (created.count === 0) {
        // Already recorded: once finished, Redis may have forgotten the job; adding it again would send twice.
        const row = await db.emailMessage.findUnique({ where: { jobId }, select: { status: true } });
        if (row?.status === 'sent' || row?.status === 'failed') return;
      }
      await queue.add(job.template, job, {
        jobId,
        // One global send rate serves everyone: a sender's recent volume pushes its own emails back,
        // so another partner's first invitation (or a customer's sign-in link) does not wait behind a burst.
        priority: await mailPriority(redis, prefix, job),
        attempts: 8,
        backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
        removeOnComplete: { age: 30 * DAY_SECONDS },
        removeOnFail: { age: 30 * DAY_SECONDS },
      });
    },
    async isEnqueued(jobId) {
      const row = await db.emailMessage.findUnique({ where: { jobId } });
      if (!row) return false;
      if (row.status !== 'queued') return true;
      return (await queue.getJob(jobId)) !== undefined;
    },
  };
}
