import type { LinkRef } from '../infra/linkTokens.js';
import type { EmailData, EmailTemplateName } from './templateData.js';

/**
 * The emails that carry a one-time link, and the field their URL fills. Their jobs
 * carry a LinkRef instead of the URL: the worker derives the token when it renders,
 * so no usable link waits in Redis or shows in Bull Board.
 */
export const linkFields = {
  invitation: 'invitationUrl',
  reminder: 'invitationUrl',
  signIn: 'signInUrl',
  domainVerification: 'verifyUrl',
  adminInvitation: 'confirmUrl',
} as const satisfies Partial<Record<EmailTemplateName, string>>;

export type LinkTemplate = keyof typeof linkFields;

export function isLinkTemplate(name: EmailTemplateName): name is LinkTemplate {
  return Object.hasOwn(linkFields, name);
}

/**
 * Emails that answer the recipient's own request, made while they wait at the screen
 * (sign-in, domain verification, admin confirmation): sent first and never held back
 * by the recipient quota. Each has its own per-organisation limit.
 */
export const customerRequested: ReadonlySet<EmailTemplateName> = new Set(['signIn', 'domainVerification', 'adminInvitation']);

/** Emails only a partner's contact address gets: news of its own relationships. */
const partnerOnly: ReadonlySet<EmailTemplateName> = new Set(['accepted', 'declined', 'invitationExpired', 'trialFailed', 'deliveryFailed', 'partnerPaused', 'partnerResumed']);

/**
 * Mail to a partner about its own relationships. A busy partner legitimately gets
 * hundreds an hour; its volume is its own doing, not an inbox someone else floods,
 * so the per-recipient quota leaves it alone (the partner's own quota bounds the cause).
 */
export function isToPartner(job: Pick<MailJob, 'template' | 'data'>): boolean {
  if (partnerOnly.has(job.template)) return true;
  return (job.data as { recipient?: unknown }).recipient === 'partner';
}

type Content<N extends EmailTemplateName> = N extends LinkTemplate
  ? { template: N; data: Omit<EmailData<N>, (typeof linkFields)[N]>; link: LinkRef }
  : { template: N; data: EmailData<N> };

interface Envelope {
  to: string;
  relationshipId?: string;
  /** The workflow to tell when the address is refused for good. */
  workflowId?: string;
  /**
   * Whose volume sets this email's queue priority (the partner id for a relationship's
   * emails), so one partner's burst waits behind everyone else's first emails.
   */
  sender?: string;
}

/** One email on the mail queue: which template, to whom, with what data (validated again when rendered). */
export type MailJob = { [N in EmailTemplateName]: Content<N> & Envelope }[EmailTemplateName];
