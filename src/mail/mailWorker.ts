import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Transporter } from 'nodemailer';
import { z } from 'zod';
import { MAIL_QUEUE } from './mailQueue.js';
import type { Database } from '../infra/database.js';
import { traceJob } from '../infra/jobTracing.js';
import { LinkSecretMismatchError } from '../infra/linkTokens.js';
import type { Logger } from '../infra/logger.js';
import type { EmailTemplates, RenderedEmail } from './emailTemplates.js';
import type { MailJob } from './mailJob.js';
import { recordHeld } from './heldMail.js';
import { createRecipientQuota } from './recipientQuota.js';
import { renderableData } from './renderLink.js';
import { isPermanentSmtpFailure } from './smtpTransport.js';

export interface MailWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  db: Database;
  templates: EmailTemplates;
  transport: Transporter;
  from: string;
  ratePerSecond: number;
  log: Logger;
  /** Derives each link's token when the email is rendered (jobs carry only a reference). */
  linkSecret: string;
  publicBaseUrl: string;
  /** For the per-recipient hourly quota. */
  redis: Redis;
  /** Emails any one address may get per hour; beyond it they wait for the next hour. */
  recipientPerHour: number;
  /**
   * Called when an address is refused for good, so the workflow can tell the partner.
   * If it throws, the job is retried (without sending again) until it succeeds, so it must be idempotent.
   */
  onUndeliverable?: (job: MailJob, reason: string, jobId: string) => Promise<void>;
}

/** How long the worker remembers, outside Postgres, that it sent an email it could not record: longer than any retry. */
const SENT_MARK_SECONDS = 7 * 86_400;

const sentMailSchema = z.object({ messageId: z.string(), subject: z.string(), attempts: z.number().int(), sentAt: z.iso.datetime() });
type SentMail = z.infer<typeof sentMailSchema>;

export function createMailWorker(options: MailWorkerOptions): Worker<MailJob> {
  const { db, templates, transport, log } = options;

  const quota = createRecipientQuota(options.redis, options.prefix, options.recipientPerHour);

  async function send(job: Job<MailJob>, token?: string): Promise<{ messageId: string } | { skipped: true }> {
    const jobId = job.id ?? '';
    const maxAttempts = job.opts.attempts ?? 1;
    // A job never run before (no attempt, never stalled) has a `queued` row: the outbox writes it
    // before the job, and re-adds a job only for a `queued` row. Only a rerun reads where it got to.
    const firstRun = job.attemptsMade === 0 && job.stalledCounter === 0;
    const row = firstRun ? null : await db.emailMessage.findUnique({ where: { jobId } });
    // A job retried after the message went out (worker died before completing it) must not send again.
    if (row?.status === 'sent') return { skipped: true };
    // Sent, but Postgres failed before it was recorded (recordSent): record it now, send nothing.
    const sentEarlier = job.attemptsMade > 0 ? sentMailSchema.safeParse(JSON.parse((await options.redis.get(sentKey(jobId))) ?? 'null')) : undefined;
    if (sentEarlier?.success) {
      await recordSent(job, sentEarlier.data);
      return { messageId: sentEarlier.data.messageId };
    }
    if (row?.status === 'failed' && row.attempts < maxAttempts) {
      // Transient failures only end as 'failed' on the last attempt, so an earlier one was a refusal
      // whose report to the workflow failed: retry only the report, never the refused address.
      // (A job retried by hand after its last transient failure still sends: nothing went out.)
      const reason = row.error ?? 'failed';
      await reportUndeliverable(job, reason);
      throw new UnrecoverableError(reason);
    }
    // Counted as it was queued (mailAdmission.ts), unless it was held back then: a held email is
    // counted in the hour it runs, and may be held again.
    const waitUntil = (job.opts.delay ?? 0) > 0 ? await quota.take(job.data) : null;
    if (waitUntil !== null) {
      await job.moveToDelayed(waitUntil, token);
      await recordHeld(db, log, jobId, job.data, waitUntil);
      throw new DelayedError();
    }
    let data: unknown;
    try {
      // The link's token exists only from here until the message is handed to SMTP.
      data = renderableData(job.data, options.linkSecret, options.publicBaseUrl);
    } catch (err) {
      if (!(err instanceof LinkSecretMismatchError)) throw err;
      log.error({ event: 'mail.linkSecretMismatch', jobId, template: job.data.template, kind: err.ref.kind, id: err.ref.id }, 'not sending a link that would not work');
      await db.emailMessage.update({ where: { jobId }, data: { status: 'failed', error: err.message } });
      throw new UnrecoverableError(err.message);
    }
    const attempts = job.attemptsMade + 1;
    let rendered: RenderedEmail;
    try {
      rendered = templates.renderUntyped(job.data.template, data);
    } catch (err) {
      // The same data renders the same way every time: retrying cannot help. A dead letter the
      // operator sees (with the reason), not a row left queued behind a job that failed.
      const reason = (err instanceof Error ? err.message : String(err)).slice(0, 2000);
      log.error({ event: 'mail.renderFailed', jobId, template: job.data.template, relationshipId: job.data.relationshipId, workflowId: job.data.workflowId, reason }, 'email cannot be rendered');
      await db.emailMessage.update({ where: { jobId }, data: { status: 'failed', attempts, error: reason } });
      throw new UnrecoverableError(reason);
    }
    const { subject, html, text } = rendered;
    let messageId: string;
    try {
      const info = await transport.sendMail({
        from: options.from,
        to: job.data.to,
        subject,
        html,
        text,
        // Stable across retries, so a receiving server can drop a duplicate.
        messageId: `<${jobId}@partnerflow>`,
      });
      messageId = String(info.messageId);
    } catch (err) {
      const reason = (err instanceof Error ? err.message : String(err)).slice(0, 2000);
      const permanent = isPermanentSmtpFailure(err);
      const lastAttempt = permanent || attempts >= maxAttempts;
      await db.emailMessage.update({
        where: { jobId },
        data: { status: lastAttempt ? 'failed' : 'queued', subject, attempts, error: reason },
      });
      log.warn({ event: 'mail.failed', jobId, template: job.data.template, relationshipId: job.data.relationshipId, workflowId: job.data.workflowId, attempts, permanent, reason }, 'email not sent');
      if (permanent) {
        await reportUndeliverable(job, reason);
        throw new UnrecoverableError(reason);
      }
      throw err;
    }
    await recordSent(job, { messageId, subject, attempts, sentAt: new Date().toISOString() });
    return { messageId };
  }

  /**
   * The SMTP server has the message: record it. If Postgres fails now, the fact is kept in Redis
   * and the job fails, so its retry records it without sending the message a second time.
   */
  async function recordSent(job: Job<MailJob>, sent: SentMail): Promise<void> {
    const jobId = job.id ?? '';
    try {
      await db.emailMessage.update({
        where: { jobId },
        data: { status: 'sent', smtpMessageId: sent.messageId, subject: sent.subject, attempts: sent.attempts, sentAt: new Date(sent.sentAt), error: null },
      });
    } catch (err) {
      const kept = await options.redis
        .set(sentKey(jobId), JSON.stringify(sent), 'EX', SENT_MARK_SECONDS)
        .then(() => true)
        .catch(() => false);
      log.error({ event: 'mail.sentUnrecorded', jobId, template: job.data.template, relationshipId: job.data.relationshipId, kept, err }, kept ? 'email sent but not recorded: the retry records it without sending again' : 'email sent but recorded nowhere: a retry may send it again');
      throw err;
    }
    log.info({ event: 'mail.sent', jobId, template: job.data.template, relationshipId: job.data.relationshipId, workflowId: job.data.workflowId, messageId: sent.messageId }, 'email sent');
  }

  const sentKey = (jobId: string) => `${options.prefix}:mail:sent:${jobId}`;

  async function reportUndeliverable(job: Job<MailJob>, reason: string): Promise<void> {
    if (!options.onUndeliverable) return;
    try {
      await options.onUndeliverable(job.data, reason, job.id ?? '');
    } catch (err) {
      log.error({ event: 'mail.undeliverable.unreported', jobId: job.id, workflowId: job.data.workflowId, err }, 'could not report a refused address; will retry');
      // A plain error: BullMQ retries with backoff, and the retry finds the row failed and only reports.
      throw new Error(`refused address not yet reported: ${reason}`, { cause: err });
    }
  }

  // A span per job (`process mail`), in the trace of the step that enqueued it; the template's name, never the address.
  const traced = (job: Job<MailJob>, token?: string) => traceJob(MAIL_QUEUE, job, { 'partnerflow.mail.template': job.data.template }, () => send(job, token));
  const worker = new Worker<MailJob>(MAIL_QUEUE, traced, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: 5,
    limiter: { max: options.ratePerSecond, duration: 1000 },
  });
  worker.on('error', (err) => log.error({ event: 'mail.worker.error', err }, 'mail worker error'));
  return worker;
}
