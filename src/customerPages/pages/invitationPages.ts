import type { PurchaseOffer } from '../../contract/purchase.js';
import { roleCatalog } from '../../contract/roles.js';
import type { TrialOffer } from '../../contract/relationship.js';
import { errorTitle, html, page } from './html.js';
import { purchaseFacts, purchaseLine } from './purchaseSummary.js';

export interface AuthorizationView {
  token: string;
  partnerName: string;
  partnerContactEmail: string;
  customerName: string;
  roles: string[];
  terms: string | null;
  durationMs: number | null;
  autoExtend: boolean;
  trial: TrialOffer | null;
  /** A subscription the partner sells and bills with the relationship (docs/commerce.md). */
  purchase: PurchaseOffer | null;
  expiresAt: Date;
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** "730 days", "2 hours": durations as a person reads them. */
export function humanDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds >= 86_400) return plural(Math.round(seconds / 86_400), 'day');
  if (seconds >= 3_600) return plural(Math.round(seconds / 3_600), 'hour');
  if (seconds >= 60) return plural(Math.round(seconds / 60), 'minute');
  return plural(seconds, 'second');
}

const roleItems = (roles: string[]) =>
  roles.map((id) => {
    const role = roleCatalog.find((r) => r.id === id);
    return html`<li><strong>${role?.name ?? id}</strong>: ${role?.description ?? ''}</li>`;
  });

const trialText = (trial: TrialOffer) => `${trial.offer}, ${plural(trial.seats, 'seat')} for ${plural(trial.days, 'day')}, at no cost`;

/** What the partner asks for, as every variant of the invitation page shows it. */
function requestSummary(view: AuthorizationView, forAdmin = true) {
  return html`<p>${view.partnerName} (${view.partnerContactEmail}) would like to become a delegated administrator for your organisation.</p>
<h2>What ${view.partnerName} could do</h2>
<ul>${roleItems(view.roles)}</ul>
<h2>For how long</h2>
<p>${view.durationMs ? humanDuration(view.durationMs) : 'Until either side ends it'}${view.autoExtend ? ', then renewed automatically' : ''}.${forAdmin ? html` You can remove this partner at any time from <a href="/partner-relationships">Partner relationships</a>.` : ''}</p>
${view.terms ? html`<h2>${view.partnerName}'s terms</h2><p>${view.terms}</p>` : ''}
${view.trial ? html`<h2>Trial offer</h2><p>${view.partnerName} also offers a trial: ${trialText(view.trial)}. If you say Yes, you choose whether to start it on the next step.</p>` : ''}
${view.purchase ? html`<h2>Purchase offer</h2><p>${view.partnerName} also offers to sell you a subscription, billed by ${view.partnerName}:</p>
${purchaseFacts(view.purchase, view.partnerName)}
<p>If you say Yes, you choose whether to buy it on ${view.trial ? 'a later' : 'the next'} step. Authorizing ${view.partnerName} does not depend on buying it.</p>` : ''}`;
}

export function authorizationPage(view: AuthorizationView, error?: string): string {
  return page(
    errorTitle(`${view.partnerName} asks to be your partner`, error),
    html`<h1>${view.partnerName} asks for admin access to ${view.customerName}</h1>
${error ? html`<p class="error" role="alert" id="form-error">${error}</p>` : ''}
${requestSummary(view)}
<form method="post" action="/invitations/${view.token}">
<fieldset${error ? html` aria-describedby="form-error"` : ''}>
<legend>Do you authorize ${view.partnerName}?</legend>
<p><label><input type="radio" name="choice" value="yes" required> Yes, authorize ${view.partnerName}</label></p>
<p><label><input type="radio" name="choice" value="no"> No</label></p>
<p><label for="reason">Reason if you say No (optional)</label><br><textarea id="reason" name="reason" rows="2" cols="50" maxlength="2000"></textarea></p>
</fieldset>
<p>This invitation expires on ${view.expiresAt.toUTCString()}.</p>
<button type="submit">Next</button>
</form>`,
  );
}

/**
 * The service operator paused the partner (src/partners/partnerPause.ts): the
 * request cannot be accepted until it is resumed, and the page says so rather
 * than offering a Yes that would be refused. Declining stays possible: it is
 * the customer's own choice and gives the partner nothing. The operator's
 * reason is for the partner, so it is not shown here. A Yes posted anyway gets
 * this same page (409): it is the partner's state, not a mistake in the form.
 */
export function partnerPausedPage(view: AuthorizationView): string {
  return page(
    'This request is on hold',
    html`<h1>${view.partnerName} asks for admin access to ${view.customerName}</h1>
<p class="error" role="alert" id="paused-notice">The service operator has suspended ${view.partnerName}'s partner access, so this request cannot be accepted now. Nothing was changed.</p>
<p>If the suspension is lifted before this invitation expires on ${view.expiresAt.toUTCString()}, you can come back to this link and answer it. Ask ${view.partnerName} (${view.partnerContactEmail}) if you have questions.</p>
${requestSummary(view)}
<h2>Decline instead</h2>
<form method="post" action="/invitations/${view.token}">
<input type="hidden" name="choice" value="no">
<p><label for="reason">Reason (optional)</label><br><textarea id="reason" name="reason" rows="2" cols="50" maxlength="2000"></textarea></p>
<button type="submit" class="secondary">Decline ${view.partnerName}'s request</button>
</form>`,
  );
}

/**
 * The link reached someone who is not an admin of a registered tenant: the
 * link proves the inbox, not authority. They can hand the request to the
 * tenant's admins, whose own emailed links then work. The page never says who
 * the admins are.
 */
export function notAdminPage(view: AuthorizationView & { recipientEmail: string; tenantDomain: string }, notice?: string): string {
  return page(
    'An admin must answer this request',
    html`<h1>${view.partnerName} asks for admin access to ${view.customerName}</h1>
<p class="error" role="alert">Only an admin of ${view.customerName} (${view.tenantDomain}) can answer this request, and ${view.recipientEmail} is not one of its admins. Nothing was changed.</p>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
${requestSummary(view, false)}
<h2>Pass it on to your admins</h2>
<p>We can email this request to the admins of ${view.customerName}; any of them can then authorize or decline it from their own link.</p>
<form method="post" action="/invitations/${view.token}/forward">
<button type="submit">Send this request to my organisation's admins</button>
</form>`,
  );
}

/** The tenant is not registered yet: the person who got the link can prove the domain, then answer. */
export function unregisteredPage(view: AuthorizationView & { recipientEmail: string; tenantDomain: string; suggestedName: string }, error?: string): string {
  return page(
    errorTitle('Verify your organisation first', error),
    html`<h1>${view.partnerName} asks for admin access to ${view.tenantDomain}</h1>
<p class="error" role="alert">${view.tenantDomain} is not registered with us yet, so nobody can authorize a partner for it. Nothing was changed.</p>
${error ? html`<p class="error" role="alert" id="name-error">${error}</p>` : ''}
${requestSummary(view, false)}
<h2>Do you manage ${view.tenantDomain}?</h2>
<p>Prove it by publishing a DNS record we give you. Your organisation is then registered with you (${view.recipientEmail}) as its admin, and you can come back here to answer this request.</p>
<form method="post" action="/invitations/${view.token}/verify-domain">
<p><label for="name">Organisation name</label><br><input id="name" name="name" required maxlength="200" value="${view.suggestedName}"${error ? html` aria-describedby="name-error" aria-invalid="true"` : ''}></p>
<button type="submit">Verify ${view.tenantDomain}</button>
</form>`,
  );
}

export function forwardedPage(view: Pick<AuthorizationView, 'partnerName' | 'customerName'>): string {
  return page(
    'Request sent to your admins',
    html`<h1>We sent the request to your admins</h1>
<p>The admins of ${view.customerName} got an email with ${view.partnerName}'s request. Any of them can authorize or decline it from their own link.</p>
<p>Nothing else is needed from you.</p>`,
  );
}

/**
 * The step after Yes when a trial is offered. It continues the same form (the
 * token is in its address): either button authorizes the partner, one with the
 * trial and one without, so nothing changes until the customer picks one. With
 * a purchase offered too, the buttons lead to the purchase step instead, which
 * carries the trial choice and authorizes.
 */
export function trialPage(view: Pick<AuthorizationView, 'token' | 'partnerName'> & { trial: TrialOffer; purchaseNext?: boolean }): string {
  return page(
    'Start your trial',
    html`<h1>One more step: your trial</h1>
<p>${view.partnerName} offers you a trial: <strong>${trialText(view.trial)}</strong>.</p>
<p>${view.purchaseNext ? `Next you choose whether to buy the subscription ${view.partnerName} offers; your authorization takes effect then.` : `Your authorization of ${view.partnerName} takes effect when you choose below.`}</p>
<form method="post" action="/invitations/${view.token}">
<input type="hidden" name="choice" value="yes">
<button type="submit" name="trial" value="start">Start the trial</button>
<button type="submit" name="trial" value="skip" class="secondary">Continue without the trial</button>
</form>`,
  );
}

export interface PurchaseStepView extends Pick<AuthorizationView, 'token' | 'partnerName'> {
  purchase: PurchaseOffer;
  /** The trial step's answer, carried through this form (undefined: no trial offered). */
  trial?: 'start' | 'skip';
}

/**
 * The step after Yes (and after the trial step) when a purchase is offered:
 * "Confirm purchase" needs the agreement ticked (checked by the server: the box
 * is not `required`, so "Continue without purchasing" never needs it); either
 * button authorizes the partner, so authorizing never depends on buying.
 * `error` (the box was not ticked) marks the box and is announced.
 */
export function purchasePage(view: PurchaseStepView, error?: string): string {
  const { purchase, partnerName } = view;
  return page(
    errorTitle('Confirm your purchase', error),
    html`<h1>One more step: the purchase ${partnerName} offers</h1>
${error ? html`<p class="error" role="alert" id="agree-error">${error}</p>` : ''}
<p>${partnerName} offers to sell you this subscription. ${partnerName} sells and bills it and its own system sets it up; you pay ${partnerName}.</p>
${purchaseFacts(purchase, partnerName)}
<p>Your authorization of ${partnerName} takes effect whichever button you choose: buying is up to you.</p>
<form method="post" action="/invitations/${view.token}">
<input type="hidden" name="choice" value="yes">
${view.trial ? html`<input type="hidden" name="trial" value="${view.trial}">` : ''}
<p class="check"><input type="checkbox" id="agree" name="agree" value="yes"${error ? html` aria-describedby="agree-error" aria-invalid="true"` : ''}> <label for="agree">I agree to buy ${purchaseLine(purchase)}, billed by ${partnerName}${purchase.autoRenew ? ', renewing automatically until cancelled' : ''}.</label></p>
<button type="submit" name="purchase" value="confirm">Confirm purchase</button>
<button type="submit" name="purchase" value="skip" class="secondary">Continue without purchasing</button>
</form>`,
  );
}

/** What the customer answered to a purchase offered with the invitation. */
export interface PurchaseAnswer {
  offer: PurchaseOffer;
  confirmed: boolean;
}

export function acceptedPage(partnerName: string, trial: { offer: string } | null, purchase: PurchaseAnswer | null = null): string {
  return page(
    'Partner authorized',
    html`<h1>You authorized ${partnerName}</h1>
${trial ? html`<p class="notice">We are creating your ${trial.offer} trial now; you will get an email when it is ready.</p>` : ''}
${
  purchase?.confirmed
    ? html`<p class="notice">You agreed to buy ${purchaseLine(purchase.offer)}. What happens next: ${partnerName}'s system sets it up, and ${partnerName} bills you for it. You can follow it on Partner relationships.</p>`
    : purchase
      ? html`<p>You did not buy ${purchase.offer.product}; we told ${partnerName}. Nothing will be billed for it.</p>`
      : ''
}
<p>${partnerName} can now administer your organisation within the roles you granted. You can remove this partner at any time from <a href="/partner-relationships">Partner relationships</a>.</p>`,
  );
}

export function declinedPage(partnerName: string): string {
  return page('Request declined', html`<h1>You declined ${partnerName}'s request</h1><p>${partnerName} has no access to your organisation. We let them know.</p>`);
}

export type LinkProblem = 'unknown' | 'expired' | 'used' | 'superseded';

const linkProblemText: Record<LinkProblem, { title: string; text: string }> = {
  unknown: { title: 'This link is not valid', text: 'We do not know this link. Check that you opened the whole link from the email.' },
  expired: { title: 'This invitation has expired', text: 'Ask the partner to send a new invitation.' },
  used: { title: 'This invitation was already used', text: 'The partner request behind this link was already answered, withdrawn or ended.' },
  superseded: { title: 'This link was replaced', text: 'The partner sent a newer invitation; use the link in the latest email.' },
};

export function linkProblemPage(problem: LinkProblem): string {
  const { title, text } = linkProblemText[problem];
  return page(title, html`<h1>${title}</h1><p class="error">${text}</p><p>Nothing was changed.</p>`);
}

export function messagePage(title: string, text: string): string {
  return page(title, html`<h1>${title}</h1><p class="error">${text}</p>`);
}
