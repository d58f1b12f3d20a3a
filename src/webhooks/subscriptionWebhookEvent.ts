import { z } from 'zod';
import { purchaseTerms, purchaseTotal, subscriptionStatuses, type SubscriptionState } from '../contract/purchase.js';

// The webhooks about the purchase offered with a relationship (docs/commerce.md).
// `subscription.requested` asks the partner's own system to create the subscription;
// it answers through POST /relationships/{id}/subscription before `deadlineAt`. The
// others tell where the subscription got to. Same delivery, signing and retries as
// every webhook (docs/webhooks.md); fields are added, never renamed or removed.

export const subscriptionEventTypes = [
  'subscription.declined',
  'subscription.requested',
  'subscription.active',
  'subscription.failed',
  'subscription.cancelled',
] as const;

export type SubscriptionEventType = (typeof subscriptionEventTypes)[number];

const money = z.object({ amount: z.string(), currency: z.string() });
const timestamp = z.iso.datetime({ offset: true });

export const subscriptionWebhookEventSchema = z
  .object({
    id: z.string().meta({ description: 'Stable across retries (workflow id + step): receivers drop ids they have seen, so a request is never acted on twice.' }),
    type: z.enum(subscriptionEventTypes),
    createdAt: timestamp,
    data: z.object({
      relationshipId: z.uuid(),
      partnerId: z.uuid(),
      tenantDomain: z.string(),
      subscription: z.object({
        status: z.enum(subscriptionStatuses),
        product: z.string(),
        seats: z.number().int(),
        term: z.enum(purchaseTerms),
        pricePerSeat: money,
        total: money.meta({ description: 'seats × price per seat, per term, exact' }),
        autoRenew: z.boolean(),
        agreedAt: timestamp.nullable().meta({ description: 'When the customer agreed (never who: the tenant’s admins are not the partner’s to know)' }),
        requestedAt: timestamp.nullable(),
        deadlineAt: timestamp.nullable().meta({ description: 'Complete the request before this, or it is marked failed' }),
        completedAt: timestamp.nullable(),
        externalRef: z.string().nullable(),
        failureReason: z.string().nullable(),
      }),
      completeUrl: z.string().nullable().meta({ description: 'Where to complete a `subscription.requested` (POST, partner API key); null on other events.' }),
    }),
  })
  .meta({
    description:
      'The purchase offered with a relationship: the customer continued without it (`subscription.declined`), agreed and your system is asked to create it (`subscription.requested`: complete it with POST /relationships/{id}/subscription before `deadlineAt`), it is active, it failed (your system said so, or the deadline passed), or the request was withdrawn because the relationship ended (`subscription.cancelled`: do not create it; a later completion is refused).',
  });

export type SubscriptionWebhookEvent = z.infer<typeof subscriptionWebhookEventSchema>;

/** The delivery id of one step of a relationship's subscription: each step happens at most once (no `:`, never all digits). */
export function subscriptionDeliveryId(workflowId: string, type: SubscriptionEventType): string {
  return `${workflowId}-${type.replace('.', '-')}`;
}

export function subscriptionEvent(input: {
  workflowId: string;
  type: SubscriptionEventType;
  at: string;
  relationshipId: string;
  partnerId: string;
  tenantDomain: string;
  subscription: SubscriptionState;
  completeUrl: string | null;
}): SubscriptionWebhookEvent {
  const s = input.subscription;
  return {
    id: subscriptionDeliveryId(input.workflowId, input.type),
    type: input.type,
    createdAt: input.at,
    data: {
      relationshipId: input.relationshipId,
      partnerId: input.partnerId,
      tenantDomain: input.tenantDomain,
      subscription: {
        status: s.status,
        product: s.product,
        seats: s.seats,
        term: s.term,
        pricePerSeat: s.pricePerSeat,
        total: purchaseTotal(s),
        autoRenew: s.autoRenew,
        agreedAt: s.agreedAt ?? null,
        requestedAt: s.requestedAt ?? null,
        deadlineAt: s.deadlineAt ?? null,
        completedAt: s.completedAt ?? null,
        externalRef: s.externalRef ?? null,
        failureReason: s.failureReason ?? null,
      },
      completeUrl: input.completeUrl,
    },
  };
}
