import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { invitationUndeliverableSignal } from '../contract/messages.js';
import type { Logger } from '../infra/logger.js';
import type { MailJob } from './mailJob.js';

/**
 * The mail worker's `onUndeliverable`: tells the relationship workflow that
 * its invitation (or reminder) was refused for good, so the partner hears of it.
 * Other emails have nobody to tell: the partner's own address failing is logged.
 */
export function reportUndeliverableInvitation(temporal: Client, log: Logger) {
  return async (job: MailJob, reason: string, jobId: string): Promise<void> => {
    if ((job.template !== 'invitation' && job.template !== 'reminder') || !job.workflowId) return;
    try {
      await temporal.workflow.getHandle(job.workflowId).signal(invitationUndeliverableSignal, { jobId, template: job.template, reason });
      log.info({ event: 'mail.undeliverable.reported', jobId, workflowId: job.workflowId, relationshipId: job.relationshipId }, 'workflow told of a refused address');
    } catch (err) {
      // The relationship already ended (withdrawn, expired): nothing is waiting for the answer.
      if (err instanceof WorkflowNotFoundError) return;
      throw err;
    }
  };
}
