import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PurchaseOffer } from '../../src/contract/purchase.js';
import { html, page, SafeHtml } from '../../src/customerPages/pages/html.js';
import {
  acceptedPage,
  authorizationPage,
  declinedPage,
  forwardedPage,
  humanDuration,
  linkProblemPage,
  messagePage,
  notAdminPage,
  partnerPausedPage,
  purchasePage,
  trialPage,
  unregisteredPage,
  type AuthorizationView,
} from '../../src/customerPages/pages/invitationPages.js';
import { confirmDeletePage, partnerListPage, removedPage, signInConfirmPage, signInPage } from '../../src/customerPages/pages/partnerRelationshipPages.js';
import {
  adminConfirmedPage,
  adminsPage,
  challengePage,
  challengeProblemPage,
  confirmAdminPage,
  newTenantPage,
  tenantRegisteredPage,
  verificationSentPage,
  type ChallengeView,
} from '../../src/customerPages/pages/tenantPages.js';

// The customer pages are plain functions from values to HTML. Everything shown
// comes from partners or from the person at the keyboard, so every value must be
// escaped, in text and in attributes alike.

const hostile = `"'><script>alert(1)</script><img src=x onerror=alert(2)>&amp;`;
const escapedHostile = '&quot;&#39;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&amp;amp;';

function authorization(v: string): AuthorizationView {
  return {
    token: v,
    partnerName: v,
    partnerContactEmail: v,
    customerName: v,
    roles: ['reports-reader', v],
    terms: v,
    durationMs: 730 * 86_400_000,
    autoExtend: true,
    trial: { offer: v, seats: 25, days: 30 },
    purchase: purchaseOf(v),
    expiresAt: new Date('2025-12-14T10:00:00Z'),
  };
}

/** A purchase offer whose product is `v` (the only free text in it; the rest the API bounds). */
const purchaseOf = (v: string): PurchaseOffer => ({ product: v, seats: 25, term: 'P1Y', pricePerSeat: { amount: '12.50', currency: 'EUR' }, autoRenew: true });

function challenge(v: string): ChallengeView {
  return { token: v, domain: v, email: v, recordName: v, expected: v, expiresAt: new Date('2025-12-14T10:00:00Z'), invitationToken: v };
}

/** Every page, with every value a partner or a visitor controls set to `v`. */
const pages: Array<[string, (v: string) => string]> = [
  ['authorization', (v) => authorizationPage(authorization(v), v)],
  ['not an admin', (v) => notAdminPage({ ...authorization(v), recipientEmail: v, tenantDomain: v }, v)],
  ['partner paused', (v) => partnerPausedPage(authorization(v))],
  ['unregistered tenant', (v) => unregisteredPage({ ...authorization(v), recipientEmail: v, tenantDomain: v, suggestedName: v }, v)],
  ['forwarded', (v) => forwardedPage({ partnerName: v, customerName: v })],
  ['trial', (v) => trialPage({ token: v, partnerName: v, trial: { offer: v, seats: 1, days: 1 } })],
  ['purchase step', (v) => purchasePage({ token: v, partnerName: v, purchase: purchaseOf(v), trial: 'start' }, v)],
  ['accepted', (v) => acceptedPage(v, { offer: v })],
  ['accepted, purchase confirmed', (v) => acceptedPage(v, null, { offer: purchaseOf(v), confirmed: true })],
  ['accepted, purchase skipped', (v) => acceptedPage(v, null, { offer: purchaseOf(v), confirmed: false })],
  ['declined', (v) => declinedPage(v)],
  ['message', (v) => messagePage(v, v)],
  ['sign in', (v) => signInPage({ kind: 'error', title: v, text: v, invalidFields: ['tenantDomain', 'email'] })],
  ['sign-in confirmation', (v) => signInConfirmPage({ email: v, tenantName: v, tenantDomain: v })],
  [
    'partner list',
    (v) =>
      partnerListPage(
        v,
        [
          {
            id: v,
            partnerName: v,
            status: v,
            roles: [v, 'user-administrator'],
            since: new Date('2025-01-01T00:00:00Z'),
            ends: null,
            removable: true,
            subscription: { ...purchaseOf(v), status: 'active', externalRef: v },
          },
          { id: v, partnerName: v, status: v, roles: [], since: null, ends: null, removable: false, subscription: { ...purchaseOf(v), status: 'failed', failureReason: v } },
        ],
        'active',
        v,
      ),
  ],
  ['confirm delete', (v) => confirmDeletePage(v, v, v)],
  ['removed', (v) => removedPage(v)],
  ['new tenant', (v) => newTenantPage({ tenantDomain: v, name: v, email: v }, { text: v, field: 'name' })],
  ['verification sent', (v) => verificationSentPage(v)],
  ['challenge, mismatch', (v) => challengePage(challenge(v), { kind: 'mismatch', found: [v, v], stale: true })],
  ['challenge, missing', (v) => challengePage(challenge(v), { kind: 'missing' })],
  ['tenant registered', (v) => tenantRegisteredPage({ domain: v, email: v, invitationPath: v })],
  ['admins', (v) => adminsPage({ tenantName: v, domain: v, me: v, admins: [v, `${v}2`], csrf: v }, { kind: 'error', text: v })],
  ['confirm admin', (v) => confirmAdminPage({ token: v, tenantName: v, domain: v, email: v })],
  ['admin confirmed', (v) => adminConfirmedPage({ tenantName: v, email: v })],
];

const count = (text: string, char: string) => text.split(char).length - 1;

describe('every customer page escapes what it shows', () => {
  it.each(pages)('%s: a hostile value shows as text, never as markup', (_name, render) => {
    const out = render(hostile);
    expect(out).toMatch(/^<!doctype html>/);
    expect(out).not.toMatch(/<script/i);
    expect(out).not.toMatch(/<img/i);
    expect(out).toContain(escapedHostile);
  });

  it.each(pages)('%s: whatever the value, it adds no tag and no attribute quote', (_name, render) => {
    const baseline = render('value');
    const structural = ['<', '>', '"', "'"].map((char) => [char, count(baseline, char)] as const);
    const value = fc.string({ unit: fc.constantFrom('<', '>', '"', "'", '&', '/', '=', ' ', 'a', 'é', '`', '\n'), minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(value, (v) => {
        const out = render(v);
        for (const [char, expected] of structural) expect(count(out, char), `${char} in ${JSON.stringify(v)}`).toBe(expected);
      }),
      { seed: 13_001, numRuns: 60 },
    );
  });
});

describe('html``', () => {
  it('escapes strings and numbers, renders nothing for null, undefined and false, and joins arrays', () => {
    const items = ['<a>', 'b&c'];
    expect(html`<p>${'<b>'}${3}${null}${undefined}${false}${items}</p>`.value).toBe('<p>&lt;b&gt;3&lt;a&gt;b&amp;c</p>');
  });

  it('nests SafeHtml without escaping it twice', () => {
    const inner = html`<em>${'x<y'}</em>`;
    expect(html`<p>${inner}</p>`.value).toBe('<p><em>x&lt;y</em></p>');
    expect(String(new SafeHtml('<br>'))).toBe('<br>');
  });

  it('page escapes the title', () => {
    const out = page('<Partners>', html`<p>body</p>`);
    expect(out).toContain('<title>&lt;Partners&gt; · partnerflow</title>');
    expect(out).toContain('<main>\n<p>body</p>\n</main>');
  });
});

describe('what the pages say', () => {
  it('humanDuration rounds to the largest unit a person reads', () => {
    expect(humanDuration(730 * 86_400_000)).toBe('730 days');
    expect(humanDuration(86_400_000)).toBe('1 day');
    expect(humanDuration(2 * 3_600_000)).toBe('2 hours');
    expect(humanDuration(45 * 60_000)).toBe('45 minutes');
    expect(humanDuration(1000)).toBe('1 second');
    expect(humanDuration(30_000)).toBe('30 seconds');
    // Whole days, as offers usually are, read exactly.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (days) => {
        expect(humanDuration(days * 86_400_000)).toBe(`${days} day${days === 1 ? '' : 's'}`);
      }),
      { seed: 13_002, numRuns: 100 },
    );
  });

  it('the authorization page shows the roles in words, the duration and the trial', () => {
    const out = authorizationPage({ ...authorization('Northwind'), token: 'tok123', roles: ['helpdesk-administrator', 'unknown-role'], terms: null, trial: null, purchase: null, durationMs: null, autoExtend: false });
    expect(out).toContain('<strong>Helpdesk administrator</strong>: Reset passwords, open service requests and monitor service health.');
    expect(out).toContain('<strong>unknown-role</strong>: </li>');
    expect(out).toContain('Until either side ends it.');
    expect(out).toContain('<form method="post" action="/invitations/tok123">');
    expect(out).not.toContain('Trial offer');
    expect(out).not.toContain('role="alert"');
  });

  it('a page for someone who is not an admin never offers the authorization form', () => {
    const out = notAdminPage({ ...authorization('Northwind'), token: 'tok123', recipientEmail: 'm.jones@contoso.example', tenantDomain: 'contoso.example' });
    expect(out).not.toContain('name="choice"');
    expect(out).toContain('action="/invitations/tok123/forward"');
    expect(out).not.toContain('remove this partner at any time');
  });

  it.each(['unknown', 'expired', 'used', 'superseded'] as const)('link problem %s says nothing was changed', (problem) => {
    expect(linkProblemPage(problem)).toContain('Nothing was changed.');
  });

  it.each(['unknown', 'expired', 'verified', 'registered'] as const)('challenge problem %s links to registration', (problem) => {
    expect(challengeProblemPage(problem)).toContain('<a href="/tenants/new">');
  });

  it('the last admin cannot be removed from the admins page', () => {
    const alone = adminsPage({ tenantName: 'Contoso', domain: 'contoso.example', me: 'a@contoso.example', admins: ['a@contoso.example'], csrf: 'c' });
    expect(alone).not.toContain('action="/tenant-admins/remove"');
    expect(alone).toContain('You are the only admin');
    const two = adminsPage({ tenantName: 'Contoso', domain: 'contoso.example', me: 'a@contoso.example', admins: ['a@contoso.example', 'b@contoso.example'], csrf: 'c' });
    expect(count(two, 'action="/tenant-admins/remove"')).toBe(2);
    expect(two).toContain('a@contoso.example</span> (you)');
  });

  it('only removable relationships get a Delete button, each carrying the CSRF token', () => {
    const rows = [
      { id: 'r1', partnerName: 'A', status: 'active', roles: ['reports-reader'], since: new Date('2025-01-02T00:00:00Z'), ends: new Date('2027-01-02T00:00:00Z'), removable: true, subscription: null },
      { id: 'r2', partnerName: 'B', status: 'terminated', roles: ['reports-reader'], since: null, ends: null, removable: false, subscription: null },
    ];
    const out = partnerListPage('contoso.example', rows, 'all', 'csrf-token');
    expect(out).toContain('action="/partner-relationships/r1/delete"');
    expect(out).not.toContain('/partner-relationships/r2/delete');
    expect(out).toContain('<td>Reports reader</td><td>2025-01-02</td><td>2027-01-02</td>');
    expect(count(out, 'name="csrf" value="csrf-token"')).toBe(2); // delete and sign out
    expect(out).toContain('<a href="/partner-relationships?filter=all" aria-current="page">all</a>');
    expect(partnerListPage('contoso.example', [], 'ended', 'c')).toContain("We didn't find anything to show here.");
  });

  it('the partner list shows each subscription: product, seats, term, status, total and who bills it', () => {
    const row = { id: 'r1', partnerName: 'Northwind', status: 'active', roles: ['reports-reader'], since: null, ends: null, removable: true };
    const offer: PurchaseOffer = { product: 'Business Premium', seats: 3, term: 'P3M', pricePerSeat: { amount: '0.1', currency: 'EUR' }, autoRenew: false };
    const text = (rows: Parameters<typeof partnerListPage>[1]) => partnerListPage('contoso.example', rows, 'all', 'c').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

    const active = text([{ ...row, subscription: { ...offer, status: 'active', externalRef: 'NW-42' } }, { ...row, id: 'r2', partnerName: 'Fabrikam', subscription: null }]);
    expect(active).toContain('Subscriptions from these partners');
    expect(active).toContain('Business Premium from Northwind');
    expect(active).toContain('Status Active');
    expect(active).toContain('Seats 3');
    // 3 × 0.1 exactly, per term, and the term in words.
    expect(active).toContain('Total EUR 0.30 per 3 months (EUR 0.1 per seat)');
    expect(active).toContain('Billing Billed by Northwind every 3 months');
    expect(active).toContain('Renews automatically No');
    expect(active).toContain("Northwind's reference NW-42");
    expect(active).not.toContain('from Fabrikam');

    expect(text([{ ...row, subscription: { ...offer, status: 'requested' } }])).toContain('Status Being set up by Northwind');
    const failed = text([{ ...row, subscription: { ...offer, status: 'failed', failureReason: 'No billing account.' } }]);
    expect(failed).toContain('Status Northwind could not set it up');
    expect(failed).toContain('What went wrong No billing account.');
    expect(text([{ ...row, subscription: { ...offer, status: 'declined' } }])).toContain('Status Not bought: you continued without purchasing');
    expect(text([{ ...row, subscription: null }])).not.toContain('Subscriptions from these partners');
  });
});
