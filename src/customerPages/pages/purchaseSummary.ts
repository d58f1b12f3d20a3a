import { formatMoney, purchaseTermNames, purchaseTotal, type PurchaseOffer, type SubscriptionState, type SubscriptionStatus } from '../../contract/purchase.js';
import { html } from './html.js';

// A purchase offer as every customer page words it: the same facts in the same
// order wherever it is shown, amounts only through formatMoney and totals only
// through purchaseTotal (exact), so a page never says a different price.

/** "Billed by Northwind every year": who bills (the partner, never this service) and how often. */
export const billedBy = (offer: Pick<PurchaseOffer, 'term'>, partnerName: string) => `Billed by ${partnerName} every ${purchaseTermNames[offer.term]}`;

/** "EUR 312.50 per year": what the whole purchase costs each term. */
export const totalPerTerm = (offer: PurchaseOffer) => `${formatMoney(purchaseTotal(offer))} per ${purchaseTermNames[offer.term]}`;

/** "Business Premium, 25 seats, EUR 312.50 per year": the purchase in one line. */
export const purchaseLine = (offer: PurchaseOffer) => `${offer.product}, ${offer.seats} seat${offer.seats === 1 ? '' : 's'}, ${totalPerTerm(offer)}`;

/** The facts of the offer, as a description list; `partnerName` bills it. */
export function purchaseFacts(offer: PurchaseOffer, partnerName: string) {
  const term = purchaseTermNames[offer.term];
  return html`<dl class="facts">
<dt>Product</dt><dd>${offer.product}</dd>
<dt>Seats</dt><dd>${offer.seats}</dd>
<dt>Price per seat</dt><dd>${formatMoney(offer.pricePerSeat)} per ${term}</dd>
<dt>Total</dt><dd>${totalPerTerm(offer)}</dd>
<dt>Billing</dt><dd>${billedBy(offer, partnerName)}</dd>
<dt>Renews automatically</dt><dd>${offer.autoRenew ? `Yes, at the end of each ${term} until you or ${partnerName} cancel it` : 'No'}</dd>
</dl>`;
}

/** Where a subscription stands, in words the customer reads (Partner relationships). */
export function subscriptionStatusText(status: SubscriptionStatus, partnerName: string): string {
  const words: Record<SubscriptionStatus, string> = {
    offered: 'Offered, not answered yet',
    declined: 'Not bought: you continued without purchasing',
    requested: `Being set up by ${partnerName}`,
    active: 'Active',
    failed: `${partnerName} could not set it up`,
    cancelled: 'Cancelled: the partner relationship ended before it was set up',
  };
  return words[status];
}

/**
 * A subscription on Partner relationships (under a heading that names the product): where it
 * stands, the offer's facts, and its reference in the partner's system or what went wrong.
 */
export function subscriptionFacts(subscription: SubscriptionState, partnerName: string) {
  return html`<dl class="facts">
<dt>Status</dt><dd>${subscriptionStatusText(subscription.status, partnerName)}</dd>
<dt>Seats</dt><dd>${subscription.seats}</dd>
<dt>Total</dt><dd>${totalPerTerm(subscription)} (${formatMoney(subscription.pricePerSeat)} per seat)</dd>
<dt>Billing</dt><dd>${billedBy(subscription, partnerName)}</dd>
<dt>Renews automatically</dt><dd>${subscription.autoRenew ? 'Yes' : 'No'}</dd>
${subscription.status === 'active' && subscription.externalRef ? html`<dt>${partnerName}'s reference</dt><dd>${subscription.externalRef}</dd>` : ''}
${subscription.status === 'failed' && subscription.failureReason ? html`<dt>What went wrong</dt><dd>${subscription.failureReason}</dd>` : ''}
</dl>`;
}
