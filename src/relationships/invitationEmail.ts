import { storedPolicy, storedPurchaseOffer, storedTrialOffer } from './storedOffer.js';
import type { MailJob } from '../mail/mailJob.js';
import type { RelationshipContext } from './relationshipContext.js';

/**
 * The invitation email's data, the same whether the workflow sends it to the
 * partner's contact or a contact forwards it to the tenant's admins. The link
 * itself is not in it: the mail worker derives it when it renders.
 */
export function invitationEmailData(
  { rel, roles, parties }: RelationshipContext,
  link: { expiresAt: string; forwardedBy?: string },
): Extract<MailJob, { template: 'invitation' }>['data'] {
  const policy = storedPolicy(rel.policy);
  return {
    ...parties,
    partnerContactEmail: rel.partner.contactEmail,
    roles,
    terms: rel.terms,
    durationSeconds: policy.durationMs ? Math.round(policy.durationMs / 1000) : null,
    autoExtend: rel.autoExtend,
    trial: storedTrialOffer(rel.trialOffer),
    purchase: storedPurchaseOffer(rel.subscription),
    expiresAt: link.expiresAt,
    forwardedBy: link.forwardedBy ?? null,
  };
}
