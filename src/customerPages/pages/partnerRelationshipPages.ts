import type { SubscriptionState } from '../../contract/purchase.js';
import { roleName } from '../../contract/roles.js';
import { html, page } from './html.js';
import { subscriptionFacts } from './purchaseSummary.js';

export interface PartnerRow {
  id: string;
  partnerName: string;
  status: string;
  roles: string[];
  since: Date | null;
  ends: Date | null;
  removable: boolean;
  /** The subscription the partner offered with the relationship and where it stands; null without one. */
  subscription: SubscriptionState | null;
}

export type PartnerFilter = 'active' | 'ended' | 'all';

const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : '—');

/**
 * What the sign-in page says above its form: a notice (the link is on its way, the session ended) or an
 * error. Its title names the state, so each answer is told apart in the tab and by a screen reader.
 * An error about what was typed names its fields: they are marked invalid and described by it.
 */
export interface SignInMessage {
  kind: 'notice' | 'error';
  title: string;
  text: string;
  invalidFields?: readonly SignInField[];
}

export type SignInField = 'tenantDomain' | 'email';

export function signInPage(message?: SignInMessage): string {
  const error = message?.kind === 'error';
  const invalid = (field: SignInField) =>
    error && message.invalidFields?.includes(field) ? html` aria-describedby="sign-in-message" aria-invalid="true"` : '';
  return page(
    message?.title ?? 'Sign in',
    html`<h1>Partner relationships</h1>
${message ? html`<p class="${message.kind}" role="${error ? 'alert' : 'status'}" id="sign-in-message">${message.text}</p>` : ''}
<p>Sign in with your organisation's admin address; we will email you a one-time sign-in link.</p>
<form method="post" action="/sign-in">
<p><label for="tenantDomain">Organisation domain</label><br><input id="tenantDomain" name="tenantDomain" required autocomplete="off"${invalid('tenantDomain')}></p>
<p><label for="email">Admin email</label><br><input id="email" name="email" type="email" required autocomplete="email"${invalid('email')}></p>
<button type="submit">Email me a sign-in link</button>
</form>
<p>Is your organisation not registered yet? <a href="/tenants/new">Register your organisation</a>.</p>`,
  );
}

/**
 * What a sign-in link opens: nothing happens until the button is pressed, so a
 * mail scanner that fetches the link leaves it usable. The form posts back to
 * the same address (the link's token is in it).
 */
export function signInConfirmPage(link: { email: string; tenantName: string; tenantDomain: string }): string {
  return page(
    'Confirm sign-in',
    html`<h1>Sign in</h1>
<p>You are about to sign in to the partner relationships of ${link.tenantName} (${link.tenantDomain}).</p>
<form method="post">
<button type="submit">Sign in as ${link.email} to ${link.tenantName}</button>
</form>
<p>Did not ask for this? Close this page; nothing happens until you press the button.</p>`,
  );
}

const filterLabels: Record<PartnerFilter, string> = { active: 'active', ended: 'ended', all: 'all' };

export function partnerListPage(tenant: string, rows: PartnerRow[], filter: PartnerFilter, csrf: string): string {
  const filters = (Object.keys(filterLabels) as PartnerFilter[]).map(
    (f) =>
      html`<li><a href="/partner-relationships?filter=${f}"${f === filter ? html` aria-current="page"` : ''}>${filterLabels[f]}</a></li>`,
  );
  // On a narrow screen each row is a block whose cells the stylesheet labels, column by column (html.ts).
  const body = rows.length
    ? html`<table class="partners">
<caption class="visually-hidden">${filterLabels[filter]} partner relationships</caption>
<thead><tr><th scope="col">Partner</th><th scope="col">Status</th><th scope="col">Roles</th><th scope="col">Since</th><th scope="col">Ends</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${rows.map(
        (r) => html`<tr><th scope="row">${r.partnerName}</th><td>${r.status}</td><td>${r.roles.map(roleName).join(', ')}</td><td>${day(r.since)}</td><td>${day(r.ends)}</td>
<td>${
          r.removable
            ? html`<form method="post" action="/partner-relationships/${r.id}/delete"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" class="secondary" aria-label="Delete ${r.partnerName}">Delete</button></form>`
            : ''
        }</td></tr>`,
      )}</tbody></table>`
    : html`<p>We didn't find anything to show here.</p>`;
  // Below the table rather than in it: a subscription has more to say than a cell holds on a phone.
  const subscriptions = rows.flatMap((r) =>
    r.subscription ? [html`<h3>${r.subscription.product} from ${r.partnerName}</h3>
${subscriptionFacts(r.subscription, r.partnerName)}`] : [],
  );
  return page(
    `Partner relationships (${filterLabels[filter]})`,
    html`<h1>Partner relationships</h1>
<p>Partners with delegated admin access to ${tenant}.</p>
<p><a href="/tenant-admins">Admins of ${tenant}</a></p>
<nav aria-label="Show"><ul>${filters}</ul></nav>
${body}
${subscriptions.length ? html`<h2>Subscriptions from these partners</h2>
<p>Each partner sells and bills its own subscriptions; its system sets them up.</p>
${subscriptions}` : ''}
<p><a href="/partner-relationships/audit-log" download>Download audit log</a>: every change to ${tenant}'s partner relationships and admins, each event carrying the hash of the one before it, so an event changed or removed later shows when the file is verified.</p>
<form method="post" action="/sign-out"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" class="secondary">Sign out</button></form>`,
  );
}

export function confirmDeletePage(id: string, partnerName: string, csrf: string): string {
  return page(
    'Remove partner',
    html`<h1>Are you sure?</h1>
<p>${partnerName} will immediately lose all admin access to your organisation.</p>
<form method="post" action="/partner-relationships/${id}/delete/confirm">
<input type="hidden" name="csrf" value="${csrf}">
<button type="submit">Yes</button> <a href="/partner-relationships">No, keep this partner</a>
</form>`,
  );
}

export function removedPage(partnerName: string): string {
  return page(
    'Partner removed',
    html`<h1>${partnerName} was removed</h1><p>The partner no longer has access to your organisation.</p><p><a href="/partner-relationships">Back to Partner relationships</a></p>`,
  );
}
