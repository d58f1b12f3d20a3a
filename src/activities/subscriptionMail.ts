import { log } from '@temporalio/activity';
import type { PurchaseOffer } from '../contract/purchase.js';
import type { Database } from '../infra/database.js';
import type { MailJob } from '../mail/mailJob.js';
import type { MailOutbox } from '../mail/mailOutbox.js';
import { isEmailTemplateName } from '../mail/templateData.js';
import { customerRecipients, recipientKey, type RelationshipContext } from '../relationships/relationshipContext.js';

// The emails about a relationship's subscription (docs/commerce.md). Each template
// gets the purchase as the invitation had it (the `purchase` schema of
// src/mail/templateData.ts words price, total and term) plus what the step adds:
//
//   subscriptionDeclined  to the partner:  relationship fields, recipient, purchase, declinedAt
//   subscriptionActive    to the customer: relationship fields, recipient, purchase, externalRef, activatedAt
//   subscriptionFailed    to both:         relationship fields, recipient, purchase, reason, failedAt
//
// `recipient` ('partner' | 'customer') says whose wording, and keeps the partner's
// mail out of the per-recipient quota (src/mail/mailJob.ts isToPartner).

export const subscriptionTemplates = ['subscriptionDeclined', 'subscriptionActive', 'subscriptionFailed'] as const;
export type SubscriptionTemplate = (typeof subscriptionTemplates)[number];

export interface SubscriptionMailInput {
  key: string;
  workflowId: string;
  template: SubscriptionTemplate;
  to: 'partner' | 'customer' | 'both';
  reason: string | null;
}

export async function sendSubscriptionMail(db: Database, mail: MailOutbox, { rel, parties }: RelationshipContext, input: SubscriptionMailInput): Promise<void> {
  const row = await db.subscription.findUnique({ where: { relationshipId: rel.id } });
  if (!row) return;
  // A deployment whose templates predate a step skips its email with a warning: the lifecycle never stalls on one.
  if (!isEmailTemplateName(input.template)) {
    log.warn('subscription email template missing: email skipped', { event: 'notification.templateMissing', template: input.template, relationshipId: rel.id });
    return;
  }
  const purchase: PurchaseOffer = {
    product: row.product,
    seats: row.seats,
    term: row.term as PurchaseOffer['term'],
    pricePerSeat: { amount: row.priceAmount, currency: row.currency },
    autoRenew: row.autoRenew,
  };
  const now = new Date().toISOString();
  const data = {
    ...parties,
    relationshipId: rel.id,
    purchase,
    externalRef: row.externalRef,
    reason: input.reason ?? row.failureReason,
    declinedAt: now,
    activatedAt: row.completedAt?.toISOString() ?? now,
    failedAt: row.completedAt?.toISOString() ?? now,
  };
  const base = { relationshipId: rel.id, workflowId: input.workflowId, sender: rel.partnerId };
  // The template name is checked above at run time; its data shape is the one documented at the top.
  const job = (to: string, recipient: 'partner' | 'customer') => ({ ...base, to, template: input.template, data: { ...data, recipient } }) as unknown as MailJob;
  if (input.to !== 'customer') await mail.enqueue(`${input.key}-partner`, job(rel.partner.contactEmail, 'partner'));
  if (input.to === 'partner') return;
  for (const to of await customerRecipients(db, rel.tenantDomain, rel.contactEmail)) {
    await mail.enqueue(`${input.key}-customer-${recipientKey(to)}`, job(to, 'customer'));
  }
}
