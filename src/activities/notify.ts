import type { Database } from '../infra/database.js';
import type { MailOutbox } from '../mail/mailOutbox.js';
import { customerRecipients, loadRelationshipContext, recipientKey } from '../relationships/relationshipContext.js';
import { storedPolicy, storedTrialOffer } from '../relationships/storedOffer.js';
import { sendSubscriptionMail } from './subscriptionMail.js';

export type NotificationEvent =
  | 'accepted'
  | 'declined'
  | 'invitationExpired'
  | 'withdrawn'
  | 'trialReady'
  | 'trialFailed'
  | 'removed'
  | 'terminated'
  | 'expired'
  | 'endingSoon'
  | 'renewed'
  | 'deliveryFailed'
  /** The customer authorized the partner and continued without the purchase: to the partner. */
  | 'subscriptionDeclined'
  /** The subscription exists (the partner's system completed it, or the local provisioner): to the customer. */
  | 'subscriptionActive'
  /** The partner's system failed it or its deadline passed: to both. */
  | 'subscriptionFailed';

export interface NotifyInput {
  workflowId: string;
  relationshipId: string;
  event: NotificationEvent;
  /** Idempotency key of this notification (workflow ID + step); each email appends its recipient. */
  key: string;
  reason?: string;
  daysLeft?: number;
}

/** Tells the people concerned about a step, by email. Idempotent on `key`. */
export function createNotifyActivities(db: Database, mail: MailOutbox) {
  async function notify(input: NotifyInput): Promise<void> {
    const { rel, roles, parties } = await loadRelationshipContext(db, input.relationshipId);
    const relationship = { ...parties, relationshipId: rel.id };
    // Every email of a relationship counts toward its partner's volume (queue priority).
    const base = { relationshipId: rel.id, workflowId: input.workflowId, sender: rel.partnerId };
    const partner = { ...base, to: rel.partner.contactEmail };
    // Read only for the events the customer hears of: most (an accept, a decline) go to the partner alone.
    const customersOf = async () => (await customerRecipients(db, rel.tenantDomain, rel.contactEmail)).map((to) => ({ to, key: `customer-${recipientKey(to)}` }));
    const now = new Date().toISOString();
    const reason = input.reason ?? null;
    // The offer's trial when no trial row was written (provisioning failed before it could write one).
    const trial = rel.trial ? { offer: rel.trial.offer, seats: rel.trial.seats, days: rel.trial.days } : storedTrialOffer(rel.trialOffer);

    const ctx = { rel, roles, parties };
    switch (input.event) {
      case 'subscriptionDeclined':
        return sendSubscriptionMail(db, mail, ctx, { key: input.key, workflowId: input.workflowId, template: input.event, to: 'partner', reason });
      case 'subscriptionActive':
        return sendSubscriptionMail(db, mail, ctx, { key: input.key, workflowId: input.workflowId, template: input.event, to: 'customer', reason });
      case 'subscriptionFailed':
        return sendSubscriptionMail(db, mail, ctx, { key: input.key, workflowId: input.workflowId, template: input.event, to: 'both', reason });
      case 'accepted':
        return mail.enqueue(`${input.key}-partner`, {
          ...partner,
          template: 'accepted',
          data: { ...relationship, roles, acceptedAt: rel.acceptedAt ?? now, endsAt: rel.endsAt, trial },
        });
      case 'declined':
        return mail.enqueue(`${input.key}-partner`, {
          ...partner,
          template: 'declined',
          data: { ...relationship, declinedAt: rel.endedAt ?? now, reason },
        });
      case 'invitationExpired':
        return mail.enqueue(`${input.key}-partner`, {
          ...partner,
          template: 'invitationExpired',
          data: { ...relationship, expiredAt: rel.endedAt ?? now },
        });
      case 'deliveryFailed':
        return mail.enqueue(`${input.key}-partner`, {
          ...partner,
          template: 'deliveryFailed',
          data: { ...relationship, adminEmail: rel.contactEmail, reason },
        });
      case 'withdrawn':
        // The customer never acted; the partner did this itself. Nobody needs an email.
        return;
      case 'trialReady':
        if (!trial || !rel.trial?.endsAt) return;
        for (const customer of await customersOf()) {
          await mail.enqueue(`${input.key}-${customer.key}`, {
            ...base,
            to: customer.to,
            template: 'trialReady',
            data: { ...parties, trial, trialEndsAt: rel.trial.endsAt },
          });
        }
        return;
      case 'trialFailed':
        if (!trial) return;
        return mail.enqueue(`${input.key}-partner`, { ...partner, template: 'trialFailed', data: { ...relationship, trial, reason } });
      case 'removed':
      case 'terminated':
      case 'expired':
      case 'endingSoon':
      case 'renewed':
        await mail.enqueue(`${input.key}-partner`, { ...partner, ...toBoth(input, { ...relationship, recipient: 'partner' }) });
        for (const customer of await customersOf()) {
          await mail.enqueue(`${input.key}-${customer.key}`, { ...base, to: customer.to, ...toBoth(input, { ...relationship, recipient: 'customer' }) });
        }
        return;
    }

    function toBoth(
      { event, daysLeft }: NotifyInput,
      base: typeof relationship & { recipient: 'partner' | 'customer' },
    ) {
      const endedAt = rel.endedAt ?? now;
      switch (event) {
        case 'removed':
          return { template: 'removed' as const, data: { ...base, roles, removedAt: endedAt } };
        case 'terminated':
          return { template: 'terminated' as const, data: { ...base, roles, terminatedAt: endedAt, reason } };
        case 'expired':
          return { template: 'expired' as const, data: { ...base, roles, endedAt } };
        case 'endingSoon':
          return { template: 'endingSoon' as const, data: { ...base, daysLeft: daysLeft ?? 1, endsAt: rel.endsAt ?? now } };
        default: {
          const policy = storedPolicy(rel.policy);
          const durationSeconds = Math.max(1, Math.round((policy.autoExtendByMs ?? 0) / 1000));
          return { template: 'renewed' as const, data: { ...base, durationSeconds, endsAt: rel.endsAt ?? now } };
        }
      }
    }
  }

  return { notify };
}
