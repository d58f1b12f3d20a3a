import type { Database } from '../infra/database.js';
import type { Logger } from '../infra/logger.js';
import type { MailJob } from './mailJob.js';

/**
 * Deferred, not dropped: the address has had its share this hour (a flood aimed at one inbox).
 * The email's row says why and until when; whether it was held as it was queued or when it ran.
 */
export async function recordHeld(db: Database, log: Logger, jobId: string, job: MailJob, until: number): Promise<void> {
  const at = new Date(until).toISOString();
  await db.emailMessage.update({ where: { jobId }, data: { error: `deferred until ${at}: recipient's hourly quota` } });
  log.warn({ event: 'mail.deferred', jobId, template: job.template, relationshipId: job.relationshipId, until: at }, 'email deferred: recipient quota');
}
