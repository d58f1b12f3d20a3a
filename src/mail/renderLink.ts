import { linkUrl } from '../infra/linkTokens.js';
import { isLinkTemplate, linkFields, type MailJob } from './mailJob.js';

/**
 * The data a job's template is rendered with: for a link email, its URL derived
 * now from the job's reference. A job queued by an older version (with the URL
 * in its data and no reference) renders as it is.
 */
export function renderableData(job: MailJob, linkSecret: string, publicBaseUrl: string): unknown {
  if (!isLinkTemplate(job.template) || !('link' in job) || job.link === undefined) return job.data;
  return { ...job.data, [linkFields[job.template]]: linkUrl(linkSecret, publicBaseUrl, job.link) };
}
