import { Redis } from 'ioredis';
import { Prisma } from '../generated/prisma/client.js';
import type { Database } from '../infra/database.js';
import { emailDeadLetter, type DeadLetters } from '../infra/deadLetters.js';
import { createOutbox } from '../infra/outbox.js';
import type { SweptOutbox } from '../infra/outboxSweeper.js';
import type { MailJob } from './mailJob.js';
import type { Logger } from '../infra/logger.js';
import { admitMail } from './mailAdmission.js';
import { recordHeld } from './heldMail.js';
import type { MailQueue } from './mailQueue.js';

/**
 * Enqueues email for the mail worker. The job id (derived from the workflow ID
 * and step) makes a retried enqueue a no-op; the `email_messages` row keeps
 * that promise after Redis forgets finished jobs (src/infra/outbox.ts).
 */
export interface MailOutbox {
  enqueue(jobId: string, job: MailJob): Promise<void>;
  /**
   * The same, for a caller that writes the email's row in its own statement, beside its own change
   * (one statement where there would be two): `insert` runs `row`, a CTE body that inserts the row
   * unless its job id is stored, and says whether it went in.
   */
  enqueueAlongside(jobId: string, job: MailJob, insert: (row: Prisma.Sql) => Promise<boolean>): Promise<void>;
  /** True once this job id was handed to the queue (or already sent/failed). */
  isEnqueued(jobId: string): Promise<boolean>;
  /** For the outbox sweeper: rows that still wait for delivery. */
  swept: SweptOutbox;
  /** Emails that failed for good, for the operator. */
  deadLetters: DeadLetters;
}

/** Tries per email before it is marked failed (a dead letter); with the backoff, about eight minutes. */
export const MAIL_ATTEMPTS = 8;

export class MailQueueConnectionError extends Error {
  constructor() {
    super('the mail queue must be created on an ioredis client (createMailQueue(redis, ...)): the outbox counts senders on it');
    this.name = 'MailQueueConnectionError';
  }
}

export interface MailOutboxOptions {
  /** RECIPIENT_MAIL_PER_HOUR: each email is counted against its recipient's hour as it is queued. */
  recipientPerHour: number;
  log: Logger;
}

export function createMailOutbox(db: Database, queue: MailQueue, { recipientPerHour, log }: MailOutboxOptions): MailOutbox {
  // The queue's own connection: no second client, and callers keep one constructor argument.
  const redis = queue.opts.connection;
  if (!(redis instanceof Redis)) throw new MailQueueConnectionError();
  const prefix = queue.opts.prefix ?? 'bull';
  // The job's data is kept with the row (it holds a link reference, never a token): the sweeper re-adds from it.
  const rowSql = (jobId: string, job: MailJob) => Prisma.sql`
    INSERT INTO email_messages (id, job_id, template, to_address, relationship_id, job, status, attempts, created_at, updated_at)
    VALUES (gen_random_uuid(), ${jobId}, ${job.template}, ${job.to}, ${job.relationshipId ?? null}::uuid, ${JSON.stringify(job)}::jsonb, 'queued', 0,
            (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'))
    ON CONFLICT (job_id) DO NOTHING
    RETURNING id`;
  const outbox = createOutbox(queue, {
    async insert({ jobId, job }: { jobId: string; job: MailJob }) {
      return (await db.$queryRaw<{ id: string }[]>(rowSql(jobId, job))).length > 0;
    },
    async stateOf(jobId) {
      const row = await db.emailMessage.findUnique({ where: { jobId }, select: { status: true } });
      if (!row) return 'unknown';
      return row.status === 'queued' ? 'queued' : 'finished';
    },
  });
  // One global send rate serves everyone: a sender's recent volume pushes its own emails back,
  // so another partner's first invitation (or a customer's sign-in link) does not wait behind a burst.
  const options = (jobId: string, job: MailJob) => async () => {
    const { priority, heldUntil } = await admitMail(redis, prefix, job, recipientPerHour);
    if (heldUntil !== null) await recordHeld(db, log, jobId, job, heldUntil);
    return {
      priority,
      attempts: MAIL_ATTEMPTS,
      backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
      ...(heldUntil === null ? {} : { delay: Math.max(0, heldUntil - Date.now()) }),
    };
  };
  const entryOf = (jobId: string, job: MailJob) => ({ jobId, name: job.template, job, options: options(jobId, job) });
  return {
    enqueue: (jobId, job) => outbox.enqueue({ ...entryOf(jobId, job), row: { jobId, job } }),
    enqueueAlongside: async (jobId, job, insert) => outbox.enqueueInserted(entryOf(jobId, job), await insert(rowSql(jobId, job))),
    isEnqueued: (jobId) => outbox.isEnqueued(jobId),
    swept: {
      kind: 'mail',
      async waiting(before, after, limit) {
        const rows = await db.emailMessage.findMany({
          // A row from before the job was kept (job null) cannot be rebuilt; the dead-letter list shows none of those either.
          where: { status: 'queued', job: { not: Prisma.AnyNull }, updatedAt: { lt: before }, ...(after ? { jobId: { gt: after } } : {}) },
          select: { jobId: true },
          orderBy: { jobId: 'asc' },
          take: limit,
        });
        return rows.map((r) => r.jobId);
      },
      async requeue(jobId) {
        const row = await db.emailMessage.findUnique({ where: { jobId } });
        if (row?.status !== 'queued' || row.job === null) return 'finished';
        if ((await queue.getJob(jobId)) !== undefined) return 'inRedis';
        await outbox.handOver(entryOf(jobId, row.job as unknown as MailJob));
        return 'requeued';
      },
    },
    deadLetters: {
      kind: 'mail',
      async list(limit) {
        const rows = await db.emailMessage.findMany({ where: { status: 'failed' }, orderBy: { updatedAt: 'desc' }, take: limit });
        return rows.map(emailDeadLetter);
      },
      count: () => db.emailMessage.count({ where: { status: 'failed' } }),
      async retry(id) {
        const row = await db.emailMessage.findUnique({ where: { id } });
        if (row?.status !== 'failed' || row.job === null) return null;
        // attempts back to 0: the worker reads a failed row with attempts left as a refusal still to report.
        const requeue = async () => (await db.emailMessage.updateMany({ where: { id, status: 'failed' }, data: { status: 'queued', attempts: 0 } })).count > 0;
        return (await outbox.retryDead(entryOf(row.jobId, row.job as unknown as MailJob), requeue)) ? emailDeadLetter(row) : null;
      },
    },
  };
}
