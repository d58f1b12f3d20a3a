import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { WEBHOOK_QUEUE, type WebhookJob } from './webhookQueue.js';
import type { Database } from '../infra/database.js';
import { traceJob } from '../infra/jobTracing.js';
import type { Logger } from '../infra/logger.js';
import { postWebhook } from './webhookPost.js';
import { WebhookTargetRefusedError, type WebhookTargetPolicy } from './webhookTarget.js';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signWebhook } from './webhookSignature.js';

export interface WebhookWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  db: Database;
  log: Logger;
  /** A receiver that takes longer than this (headers included) counts as a failed attempt. */
  timeoutMs: number;
  /** Which addresses a delivery may connect to (public only, unless WEBHOOK_ALLOW_PRIVATE_TARGETS). */
  targets: WebhookTargetPolicy;
  concurrency?: number;
}

/**
 * A 4xx says the request itself is wrong (gone, unauthorised, refused) and
 * sending it again won't help, except 408 (timeout) and 429 (slow down).
 */
export function isPermanentHttpFailure(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

function describePostError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `timed out after ${timeoutMs} ms`;
  // Socket errors name what happened in their message (connect ECONNREFUSED ..., getaddrinfo ENOTFOUND ...).
  if (err instanceof Error) return err.message;
  return String(err);
}

export function createWebhookWorker(options: WebhookWorkerOptions): Worker<WebhookJob> {
  const { db, log, timeoutMs } = options;

  async function deliver(job: Job<WebhookJob>): Promise<{ statusCode: number } | { skipped: true }> {
    const jobId = job.id ?? '';
    const delivery = await db.webhookDelivery.findUnique({ where: { jobId } });
    if (!delivery) throw new UnrecoverableError(`no webhook delivery record ${jobId}`);
    // Delivered, then the worker died before completing the job: the receiver already has it.
    if (delivery.status === 'delivered') return { skipped: true };
    const partner = await db.partner.findUnique({ where: { id: delivery.partnerId }, select: { webhookSecret: true } });
    if (!partner) throw new UnrecoverableError(`partner ${delivery.partnerId} no longer exists`);

    // Counted on the row, not the job: an operator's retry from the dashboard restarts the job's count.
    const attempt = delivery.attempts + 1;
    const jobOutOfAttempts = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const body = JSON.stringify(delivery.payload);
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    let refusedTarget = false;
    try {
      statusCode = await postWebhook(
        delivery.url,
        body,
        {
          'content-type': 'application/json',
          'user-agent': 'partnerflow-webhooks/1',
          // Signed at each attempt, so a retry an hour later still falls inside the receiver's window.
          [SIGNATURE_HEADER]: signWebhook(partner.webhookSecret, body),
          [DELIVERY_HEADER]: jobId,
          [EVENT_HEADER]: delivery.event,
        },
        // A redirect is not followed (postWebhook never does): the partner registered this URL, not wherever it points to.
        { policy: options.targets, signal: AbortSignal.timeout(timeoutMs) },
      );
      if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
    } catch (err) {
      // A target that is (or now resolves to) a private address is final: nothing was sent, and retrying can't change it.
      refusedTarget = err instanceof WebhookTargetRefusedError;
      error = describePostError(err, timeoutMs);
    }
    const durationMs = Math.round(performance.now() - started);

    const delivered = error === null;
    const permanent = refusedTarget || (statusCode !== null && isPermanentHttpFailure(statusCode));
    const lastAttempt = delivered || permanent || jobOutOfAttempts;
    const status = delivered ? 'delivered' : lastAttempt ? 'failed' : 'retrying';
    await db.$transaction([
      db.webhookAttempt.create({ data: { deliveryId: delivery.id, attempt, statusCode, error, durationMs } }),
      db.webhookDelivery.update({
        where: { id: delivery.id },
        data: { status, attempts: attempt, lastStatusCode: statusCode, lastError: error, ...(delivered ? { deliveredAt: new Date() } : {}) },
      }),
    ]);
    const fields = { event: 'webhook.attempt', jobId, type: delivery.event, relationshipId: delivery.relationshipId, partnerId: delivery.partnerId, attempt, statusCode, durationMs, status };
    if (delivered) {
      log.info(fields, 'webhook delivered');
      return { statusCode: statusCode ?? 0 };
    }
    log.warn({ ...fields, error, permanent }, lastAttempt ? 'webhook failed for good' : 'webhook attempt failed; will retry');
    const message = error ?? 'failed';
    throw permanent ? new UnrecoverableError(message) : new Error(message);
  }

  // A span per job (`process webhooks`), in the trace of the step that enqueued it; the event type, never the URL or body.
  const traced = (job: Job<WebhookJob>) => traceJob(WEBHOOK_QUEUE, job, { 'partnerflow.webhook.event': job.data.event }, () => deliver(job));
  const worker = new Worker<WebhookJob>(WEBHOOK_QUEUE, traced, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 10,
  });
  worker.on('error', (err) => log.error({ event: 'webhook.worker.error', err }, 'webhook worker error'));
  return worker;
}
