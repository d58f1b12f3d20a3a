import type { EmailData, EmailTemplateName } from './templateData.js';

/** One email on the mail queue: which template, to whom, with what data (validated again when rendered). */
export type MailJob = {
  [N in EmailTemplateName]: {
    template: N;
    to: string;
    data: EmailData<N>;
    relationshipId?: string;
    /** The workflow to tell when the address is refused for good. */
    workflowId?: string;
  };
}[EmailTemplateName];
