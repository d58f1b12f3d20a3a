import type { JobsOptions } from 'bullmq';
import { traceContextForJob } from './jobTracing.js';

/**
 * The transactional-outbox half both the mail and the webhook feature need:
 * a Postgres row per delivery, keyed like its BullMQ job, written before the
 * job is handed to Redis. A retried hand-over (an activity run twice, two
 * racing callers) finds the row and at most re-adds a job Redis already holds,
 * which BullMQ ignores; a delivery that already finished is never added again,
 * because Redis may have forgotten its job and would send it twice.
 */
export interface OutboxTable<Row> {
  /** INSERT … ON CONFLICT DO NOTHING; true when this call inserted the row. */
  insert(row: Row): Promise<boolean>;
  /** Where the delivery with this job id stands, by its row. */
  stateOf(jobId: string): Promise<'unknown' | 'queued' | 'finished'>;
}

export interface OutboxEntry<Job, Row> {
  jobId: string;
  /** The BullMQ job name (what a dashboard lists). */
  name: string;
  job: Job;
  row: Row;
  /** Retry and priority options, computed only when the job is really handed over. */
  options: () => JobsOptions | Promise<JobsOptions>;
}

export interface Outbox<Job, Row> {
  enqueue(entry: OutboxEntry<Job, Row>): Promise<void>;
  /** True once this job id was handed to the queue (or its delivery already finished). */
  isEnqueued(jobId: string): Promise<boolean>;
}

/** The part of a BullMQ Queue<Job> the outbox uses. */
export interface OutboxQueue<Job> {
  add(name: string, data: Job, opts: JobsOptions): Promise<unknown>;
  getJob(jobId: string): Promise<unknown>;
}

const DAY_SECONDS = 86_400;
/** Finished jobs stay visible in the queue dashboard this long; the rows in Postgres stay for good. */
const KEEP_FINISHED = { age: 30 * DAY_SECONDS };

export function createOutbox<Job, Row>(queue: OutboxQueue<Job>, table: OutboxTable<Row>): Outbox<Job, Row> {
  return {
    async enqueue({ jobId, name, job, row, options }) {
      if (!(await table.insert(row)) && (await table.stateOf(jobId)) === 'finished') return;
      // The job's span (jobTracing.ts) continues the trace that hands it over, when there is one.
      await queue.add(name, job, { ...(await options()), jobId, removeOnComplete: KEEP_FINISHED, removeOnFail: KEEP_FINISHED, ...traceContextForJob() });
    },
    async isEnqueued(jobId) {
      const state = await table.stateOf(jobId);
      if (state !== 'queued') return state === 'finished';
      return (await queue.getJob(jobId)) !== undefined;
    },
  };
}
