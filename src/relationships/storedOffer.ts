import { z } from 'zod';
import type { RelationshipPolicy } from '../contract/policy.js';
import { purchaseTerms, subscriptionStatuses, type PurchaseOffer, type SubscriptionState } from '../contract/purchase.js';
import type { TrialOffer } from '../contract/relationship.js';
import type { Subscription } from '../generated/prisma/client.js';

// The offer's policy and trial are stored as JSON columns on the relationship,
// its purchase as a `subscriptions` row. Read them back through one schema
// instead of casting at every use.

const storedPolicySchema = z
  .object({
    invitationTtlMs: z.number(),
    reminderBeforeExpiryMs: z.number(),
    durationMs: z.number(),
    warningsBeforeEndMs: z.array(z.number()),
    autoExtendByMs: z.number(),
    trialProvisioningAttempts: z.number(),
  })
  .partial();

const storedTrialOfferSchema = z.object({ offer: z.string(), seats: z.number(), days: z.number() }).nullable();

export function storedPolicy(json: unknown): Partial<RelationshipPolicy> {
  return storedPolicySchema.parse(json);
}

export function storedTrialOffer(json: unknown): TrialOffer | null {
  const trial = storedTrialOfferSchema.parse(json ?? null);
  return trial ? { offer: trial.offer, seats: trial.seats, days: trial.days } : null;
}

const storedSubscriptionSchema = z.object({
  product: z.string(),
  seats: z.number().int(),
  term: z.enum(purchaseTerms),
  priceAmount: z.string(),
  currency: z.string(),
  autoRenew: z.boolean(),
  status: z.enum(subscriptionStatuses),
});

/**
 * The purchase offered with a relationship and where it stands, from its `subscriptions` row
 * (null without one). The term and status are checked against the contract's lists, so a page or an
 * email never names a term it cannot word.
 */
export function storedSubscription(row: Subscription | null | undefined): SubscriptionState | null {
  if (!row) return null;
  const s = storedSubscriptionSchema.parse(row);
  const optional = { agreedAt: row.agreedAt, agreedBy: row.agreedBy, requestedAt: row.requestedAt, deadlineAt: row.deadlineAt, completedAt: row.completedAt, externalRef: row.externalRef, failureReason: row.failureReason };
  const present = Object.entries(optional).flatMap(([key, value]) => (value === null ? [] : [[key, value instanceof Date ? value.toISOString() : value]]));
  return {
    product: s.product,
    seats: s.seats,
    term: s.term,
    pricePerSeat: { amount: s.priceAmount, currency: s.currency },
    autoRenew: s.autoRenew,
    status: s.status,
    ...(Object.fromEntries(present) as Partial<Pick<SubscriptionState, keyof typeof optional>>),
  };
}

const storedPurchaseOfferSchema = storedSubscriptionSchema.pick({ product: true, seats: true, term: true, priceAmount: true, currency: true, autoRenew: true });

/** The columns of a `subscriptions` row that say what was offered. */
export type PurchaseOfferColumns = Pick<Subscription, 'product' | 'seats' | 'term' | 'priceAmount' | 'currency' | 'autoRenew'>;

/** Only what was offered (no state): what the invitation email and the authorization page show. */
export function storedPurchaseOffer(row: PurchaseOfferColumns | null | undefined): PurchaseOffer | null {
  if (!row) return null;
  const s = storedPurchaseOfferSchema.parse(row);
  return { product: s.product, seats: s.seats, term: s.term, pricePerSeat: { amount: s.priceAmount, currency: s.currency }, autoRenew: s.autoRenew };
}
