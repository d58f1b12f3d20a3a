import { storedPolicy, storedTrialOffer } from '../infra/storedOffer.js';
import type { EmailData } from '../mail/templateData.js';
import type { RelationshipContext } from './relationshipContext.js';

/**
 * The invitation email's data, the same whether the workflow sends it to the
 * partner's contact or a contact forwards it to the tenant's admins.
 */
export function invitationEmailData(
  { rel, roles, parties }: RelationshipContext,
  link: { invitationUrl: string; expiresAt: string; forwardedBy?: string },
): EmailData<'invitation'> {
  const policy = storedPolicy(rel.policy);
  return {
    ...parties,
    partnerContactEmail: rel.partner.contactEmail,
    roles,
    terms: rel.terms,
    durationSeconds: policy.durationMs ? Math.round(policy.durationMs / 1000) : null,
    autoExtend: rel.autoExtend,
    trial: storedTrialOffer(rel.trialOffer),
    expiresAt: link.expiresAt,
    invitationUrl: link.invitationUrl,
    forwardedBy: link.forwardedBy ?? null,
  };
}
