import type { Logger } from './logger.js';

/** Which outbox a row is in: each has its own table and queue. */
export const deliveryKinds = ['mail', 'webhook'] as const;
export type DeliveryKind = (typeof deliveryKinds)[number];

/** What the sweeper needs of one outbox (src/mail/mailOutbox.ts, src/webhooks/webhookOutbox.ts). */
export interface SweptOutbox {
  kind: DeliveryKind;
  /** Job ids of rows still waiting for delivery, last changed before `before`, after `after` in job id order. */
  waiting(before: Date, after: string | undefined, limit: number): Promise<string[]>;
  /** Hands the row's job to Redis again when Redis holds none; never a delivery that finished. */
  requeue(jobId: string): Promise<'requeued' | 'inRedis' | 'finished'>;
}

export interface OutboxSweeperOptions {
  outboxes: SweptOutbox[];
  /** A row younger than this is left alone: its hand-over may still be under way. */
  graceMs: number;
  log: Logger;
  pageSize?: number;
}

export interface OutboxSweeper {
  /** One pass over every outbox; how many rows it handed to Redis again. */
  sweepOnce(): Promise<number>;
  /** Runs a pass every `intervalMs` (a pass still running is not overlapped). */
  start(intervalMs: number): void;
  /** Stops the timer and waits (a few seconds at most: Redis may be down) for a pass in progress. */
  stop(): Promise<void>;
}

/**
 * Finds outbox rows still waiting after a grace period whose BullMQ job is not
 * in Redis (a crash between the row's commit and the hand-over, a hand-over
 * given up while Redis was down, a Redis that lost its data) and hands them
 * over again. Adding is idempotent by job id, and a finished delivery is never
 * added again (src/infra/outbox.ts), so two worker processes sweeping at once
 * do no harm.
 */
const STOP_WAIT_MS = 5_000;

export function createOutboxSweeper(options: OutboxSweeperOptions): OutboxSweeper {
  const { log, graceMs } = options;
  const pageSize = options.pageSize ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<number> | undefined;

  async function sweepOutbox(outbox: SweptOutbox, before: Date): Promise<number> {
    let requeued = 0;
    let after: string | undefined;
    for (;;) {
      const jobIds = await outbox.waiting(before, after, pageSize);
      for (const jobId of jobIds) {
        const outcome = await outbox.requeue(jobId);
        if (outcome !== 'requeued') continue;
        requeued += 1;
        log.warn({ event: 'outbox.swept', kind: outbox.kind, jobId }, 'a queued delivery had no job in Redis: handed over again');
      }
      if (jobIds.length < pageSize) return requeued;
      after = jobIds[jobIds.length - 1];
    }
  }

  async function sweepOnce(): Promise<number> {
    const before = new Date(Date.now() - graceMs);
    let total = 0;
    for (const outbox of options.outboxes) total += await sweepOutbox(outbox, before);
    return total;
  }

  return {
    sweepOnce,
    start(intervalMs) {
      timer ??= setInterval(() => {
        if (pass) return;
        pass = sweepOnce()
          .catch((err: unknown) => {
            log.warn({ event: 'outbox.sweepFailed', err }, 'outbox sweep failed; the next one retries');
            return 0;
          })
          .finally(() => {
            pass = undefined;
          });
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      if (!pass) return;
      let waited: NodeJS.Timeout | undefined;
      await Promise.race([pass, new Promise((resolve) => (waited = setTimeout(resolve, STOP_WAIT_MS)))]);
      clearTimeout(waited);
    },
  };
}
