// A purchase offer: a subscription the partner sells with the relationship and
// bills itself. partnerflow is where the customer agrees to it and where the
// partner's own system reports that it created it (docs/commerce.md).
// Pure and deterministic: the workflow, the API, the pages and the emails use it.

export interface Money {
  /** A decimal string, e.g. "12.50": never a float, so totals are exact. */
  amount: string;
  /** ISO 4217, upper case, e.g. "EUR". */
  currency: string;
}

export interface PurchaseOffer {
  product: string;
  seats: number;
  /** ISO 8601 duration of one billing term: P1M, P3M, P1Y… (one of `purchaseTerms`). */
  term: PurchaseTerm;
  pricePerSeat: Money;
  autoRenew: boolean;
}

/** The terms a partner may offer: a bounded list rather than any duration, so pages can name them plainly. */
export const purchaseTerms = ['P1M', 'P3M', 'P6M', 'P1Y', 'P2Y', 'P3Y'] as const;
export type PurchaseTerm = (typeof purchaseTerms)[number];

export const purchaseTermNames: Record<PurchaseTerm, string> = {
  P1M: 'month',
  P3M: '3 months',
  P6M: '6 months',
  P1Y: 'year',
  P2Y: '2 years',
  P3Y: '3 years',
};

export const purchaseRanges = {
  productLength: { min: 1, max: 120 },
  seats: { min: 1, max: 100_000 },
  /** Per seat per term: up to 9 digits before the point and 4 after it; 0 is allowed (a free plan the partner still provisions). */
  amountPattern: /^(0|[1-9]\d{0,8})(\.\d{1,4})?$/,
  /** How long the partner's system may take to complete a request (seconds). */
  completionDeadlineSeconds: { min: 60, max: 30 * 86_400, default: 3 * 86_400 },
  externalRefLength: { min: 1, max: 200 },
  failureReasonLength: { min: 1, max: 500 },
} as const;

/**
 * The completion deadline a partner may set. With the operator's ALLOW_SHORT_DURATIONS (demos
 * and tests, as for every other duration) its minimum is one second; the maximum never moves.
 */
export function completionDeadlineRange(allowShort: boolean): { min: number; max: number } {
  const { min, max } = purchaseRanges.completionDeadlineSeconds;
  return { min: allowShort ? 1 : min, max };
}

/**
 * - `offered`: waiting for the customer's answer (the invitation is open).
 * - `declined`: the customer authorized the partner and continued without buying.
 * - `requested`: the customer agreed; the partner's system was asked and has not answered.
 * - `active`: the partner's system created it (`externalRef` is its id there).
 * - `failed`: the partner's system said it failed, or its deadline passed.
 * - `cancelled`: the relationship ended before the request was completed (the request was withdrawn),
 *   or it ended before the customer answered.
 */
export const subscriptionStatuses = ['offered', 'declined', 'requested', 'active', 'failed', 'cancelled'] as const;
export type SubscriptionStatus = (typeof subscriptionStatuses)[number];

export interface SubscriptionState extends PurchaseOffer {
  status: SubscriptionStatus;
  /** When and by whom (the customer admin's email) the purchase was agreed. */
  agreedAt?: string;
  agreedBy?: string;
  requestedAt?: string;
  /** Until when the partner's system may complete the request. */
  deadlineAt?: string;
  completedAt?: string;
  externalRef?: string;
  failureReason?: string;
}

/**
 * Who creates trials and subscriptions for a partner: `local` records them in
 * partnerflow only (for `npm start` and demos); `partner` asks the partner's own
 * system through a signed webhook and waits for its completion through the API.
 */
export const provisioners = ['local', 'partner'] as const;
export type ProvisionerKind = (typeof provisioners)[number];

/**
 * The partner's system's answer to a request it was sent: a subscription
 * (`POST /relationships/{id}/subscription`) or a trial (`POST /relationships/{id}/trial`).
 */
export type ProvisioningCompletion = { status: 'active'; externalRef: string } | { status: 'failed'; reason: string };
export type SubscriptionCompletion = ProvisioningCompletion;

function minorUnits(amount: string): { units: bigint; scale: number } {
  const [whole = '0', fraction = ''] = amount.split('.');
  return { units: BigInt(whole + fraction), scale: fraction.length };
}

/** seats × price per seat, exact, as a decimal string with the price's decimals (at least 2). */
export function purchaseTotal(offer: Pick<PurchaseOffer, 'seats' | 'pricePerSeat'>): Money {
  const { units, scale } = minorUnits(offer.pricePerSeat.amount);
  const digits = Math.max(scale, 2);
  const total = (units * BigInt(offer.seats) * 10n ** BigInt(digits - scale)).toString().padStart(digits + 1, '0');
  return { amount: `${total.slice(0, -digits)}.${total.slice(-digits)}`, currency: offer.pricePerSeat.currency };
}

/** "EUR 12.50": the one way pages, emails and summaries write an amount. */
export function formatMoney({ amount, currency }: Money): string {
  return `${currency} ${amount}`;
}
