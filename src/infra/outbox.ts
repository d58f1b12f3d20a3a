import type { JobsOptions } from 'bullmq';
import { traceContextForJob } from './jobTracing.js';
import type { Logger } from './logger.js';

/**
 * The transactional-outbox half both the mail and the webhook feature need:
 * a Postgres row per delivery, keyed like its BullMQ job, written before the
 * job is handed to Redis. A retried hand-over (an activity run twice, two
 * racing callers, the sweeper) finds the row and at most re-adds a job Redis
 * already holds, which BullMQ ignores; a delivery that already finished is
 * never added again, because Redis may have forgotten its job and would send
 * it twice. A row whose job never reached Redis (a crash between the two, a
 * hand-over given up while Redis was down) is found by the outbox sweeper
 * (outboxSweeper.ts) and handed over then.
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

/** An entry whose row is already committed (in the caller's own transaction, or found by the sweeper). */
export type OutboxHandOver<Job> = Omit<OutboxEntry<Job, never>, 'row'>;

export interface Outbox<Job, Row> {
  enqueue(entry: OutboxEntry<Job, Row>): Promise<void>;
  /**
   * The second half of `enqueue`, for a caller that wrote the row itself (in a statement of its
   * own, with its own change): `inserted` says whether that write put the row in.
   */
  enqueueInserted(entry: OutboxHandOver<Job>, inserted: boolean): Promise<void>;
  /**
   * Hands a committed row's job to Redis, unless its delivery already finished.
   * Waits at most `withinMs` when given: false then means Redis did not take it
   * in time (it may still, later; else the sweeper will), and nothing is thrown.
   */
  handOver(entry: OutboxHandOver<Job>, withinMs?: number): Promise<boolean>;
  /** True once this job id was handed to the queue (or its delivery already finished). */
  isEnqueued(jobId: string): Promise<boolean>;
  /**
   * Sends a dead letter again: its finished job is dropped from Redis, `requeueRow` puts its row
   * back to queued (false: it was not failed any more, and nothing is sent), then the job goes in
   * afresh under the same id.
   */
  retryDead(entry: OutboxHandOver<Job>, requeueRow: () => Promise<boolean>): Promise<boolean>;
}

/** The part of a BullMQ Queue<Job> the outbox uses. */
export interface OutboxQueue<Job> {
  add(name: string, data: Job, opts: JobsOptions): Promise<unknown>;
  getJob(jobId: string): Promise<{ remove(): Promise<void> } | undefined>;
}

const DAY_SECONDS = 86_400;
/** Finished jobs stay visible in the queue dashboard this long; the rows in Postgres stay for good. */
const KEEP_FINISHED = { age: 30 * DAY_SECONDS };

/** A promise that settles with `fallback` after `ms` if `work` has not settled (work's own failure is then only logged). */
async function within<T>(work: Promise<T>, ms: number, fallback: T, onLate: (err: unknown) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  work.catch(onLate);
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

export function createOutbox<Job, Row>(queue: OutboxQueue<Job>, table: OutboxTable<Row>, log?: Logger): Outbox<Job, Row> {
  async function add({ jobId, name, job, options }: OutboxHandOver<Job>): Promise<void> {
    // The job's span (jobTracing.ts) continues the trace that hands it over, when there is one.
    await queue.add(name, job, { ...(await options()), jobId, removeOnComplete: KEEP_FINISHED, removeOnFail: KEEP_FINISHED, ...traceContextForJob() });
  }
  async function enqueueInserted(entry: OutboxHandOver<Job>, inserted: boolean): Promise<void> {
    if (!inserted && (await table.stateOf(entry.jobId)) === 'finished') return;
    await add(entry);
  }
  return {
    enqueue: async (entry) => enqueueInserted(entry, await table.insert(entry.row)),
    enqueueInserted,
    async handOver(entry, withinMs) {
      if ((await table.stateOf(entry.jobId)) === 'finished') return true;
      if (withinMs === undefined) {
        await add(entry);
        return true;
      }
      // A worker's Redis client queues commands while Redis is down (it must outlive a restart), so
      // the add would wait for Redis to come back; the caller's transaction is committed, and the
      // sweeper hands the row over later if this add never lands.
      const handed = await within(
        add(entry).then(() => true),
        withinMs,
        false,
        (err: unknown) => log?.warn({ event: 'outbox.handOverFailed', jobId: entry.jobId, err }, 'job not handed to Redis; the outbox sweeper will'),
      ).catch(() => false);
      if (!handed) log?.warn({ event: 'outbox.handOverDeferred', jobId: entry.jobId, waitedMs: withinMs }, 'Redis did not take the job in time; the outbox sweeper will hand it over');
      return handed;
    },
    async isEnqueued(jobId) {
      const state = await table.stateOf(jobId);
      if (state !== 'queued') return state === 'finished';
      return (await queue.getJob(jobId)) !== undefined;
    },
    async retryDead(entry, requeueRow) {
      // BullMQ ignores an add under the id of a job it still keeps (failed ones stay 30 days): drop that first.
      await (await queue.getJob(entry.jobId))?.remove();
      if (!(await requeueRow())) return false;
      await add(entry);
      return true;
    },
  };
}
