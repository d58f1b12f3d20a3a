import { beforeAll, describe, expect, it } from 'vitest';
import { emailSamples } from '../../emails/emailSamples.js';
import type { PurchaseOffer } from '../../src/contract/purchase.js';
import { invitationAnswerFormSchema, purchaseAnswerSchema } from '../../src/customerPages/formSchemas.js';
import { acceptedPage, authorizationPage, purchasePage, trialPage, type AuthorizationView } from '../../src/customerPages/pages/invitationPages.js';
import { compileEmailTemplates, type EmailTemplates } from '../../src/mail/emailTemplates.js';

// What a customer is shown of a purchase offer, before anything is bought: the
// invitation email, the authorization page and the purchase step must say the
// same product, seats, price per seat, exact total per term, term, who bills
// and whether it renews; and a purchase is confirmed only with the agreement ticked.

const offer: PurchaseOffer = { product: 'Business Premium', seats: 3, term: 'P1Y', pricePerSeat: { amount: '0.1', currency: 'EUR' }, autoRenew: true };
const hostileProduct = `Premium<img src=x onerror=alert(1)>"&'`;
const escapedProduct = 'Premium&lt;img src=x onerror=alert(1)&gt;&quot;&amp;&#39;';

const view: AuthorizationView = {
  token: 'tok123',
  partnerName: 'Northwind',
  partnerContactEmail: 'ops@northwind.example',
  customerName: 'Contoso',
  roles: ['user-administrator'],
  terms: null,
  durationMs: null,
  autoExtend: false,
  trial: null,
  purchase: offer,
  expiresAt: new Date('2025-12-14T10:00:00Z'),
};

/** The visible text of a page or an email's HTML, one space between words. */
const textOf = (markup: string) =>
  markup
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ');

/** Everything a purchase offer must say, as both the page and the email word it. */
function expectOfferShown(text: string) {
  expect(text).toContain('Business Premium');
  expect(text).toMatch(/Seats:? 3/);
  // 3 × 0.1 is 0.30000000000000004 as a float: the total is exact, in the price's currency.
  expect(text).toMatch(/Price per seat:? EUR 0\.1 per year/);
  expect(text).toMatch(/Total:? EUR 0\.30 per year/);
  expect(text).toMatch(/[Bb]illed by Northwind every year/);
  expect(text).toMatch(/Renews automatically:? [Yy]es, at the end of each year/);
}

describe('the authorization page with a purchase offer', () => {
  it('shows product, seats, price per seat, the exact total per term, who bills and auto-renewal', () => {
    const text = textOf(authorizationPage(view));
    expect(text).toContain('Purchase offer');
    expectOfferShown(text);
    expect(text).toContain('Authorizing Northwind does not depend on buying it.');
  });

  it('says plainly when it does not renew, and words every term', () => {
    expect(textOf(authorizationPage({ ...view, purchase: { ...offer, autoRenew: false } }))).toContain('Renews automatically No');
    const quarterly = textOf(authorizationPage({ ...view, purchase: { ...offer, term: 'P3M', seats: 25, pricePerSeat: { amount: '12.50', currency: 'USD' } } }));
    expect(quarterly).toContain('Total USD 312.50 per 3 months');
    expect(quarterly).toContain('Billed by Northwind every 3 months');
  });

  it('shows no purchase without one', () => {
    expect(authorizationPage({ ...view, purchase: null })).not.toContain('Purchase offer');
  });

  it('escapes a hostile product name', () => {
    const out = authorizationPage({ ...view, purchase: { ...offer, product: hostileProduct } });
    expect(out).not.toContain('<img');
    expect(out).toContain(escapedProduct);
  });
});

describe('the purchase step', () => {
  it('asks for the agreement with a checkbox tied to its label, and offers both buttons', () => {
    const out = purchasePage({ token: 'tok123', partnerName: 'Northwind', purchase: offer });
    expectOfferShown(textOf(out));
    expect(out).toContain('<form method="post" action="/invitations/tok123">');
    expect(out).toContain('<input type="hidden" name="choice" value="yes">');
    expect(out).toContain('<input type="checkbox" id="agree" name="agree" value="yes">');
    expect(out).toMatch(/<label for="agree">I agree to buy Business Premium, 3 seats, EUR 0\.30 per year, billed by Northwind, renewing automatically until cancelled\.<\/label>/);
    expect(out).toContain('<button type="submit" name="purchase" value="confirm">Confirm purchase</button>');
    expect(out).toContain('<button type="submit" name="purchase" value="skip" class="secondary">Continue without purchasing</button>');
    // Never `required`: the browser would then refuse "Continue without purchasing" too.
    expect(out).not.toMatch(/<input type="checkbox"[^>]*required/);
    expect(out).not.toContain('role="alert"');
    expect(out).not.toContain('name="trial"');
  });

  it('carries the trial step answer through its form', () => {
    expect(purchasePage({ token: 't', partnerName: 'N', purchase: offer, trial: 'start' })).toContain('<input type="hidden" name="trial" value="start">');
    expect(purchasePage({ token: 't', partnerName: 'N', purchase: offer, trial: 'skip' })).toContain('<input type="hidden" name="trial" value="skip">');
  });

  it('shown again with an error: announced, in the title, and tied to the checkbox', () => {
    const out = purchasePage({ token: 'tok123', partnerName: 'Northwind', purchase: offer }, 'Tick the box.');
    expect(out).toContain('<title>Error: Confirm your purchase · partnerflow</title>');
    expect(out).toContain('<p class="error" role="alert" id="agree-error">Tick the box.</p>');
    expect(out).toContain('<input type="checkbox" id="agree" name="agree" value="yes" aria-describedby="agree-error" aria-invalid="true">');
  });

  it('the trial step says that the purchase comes next when one is offered', () => {
    expect(trialPage({ token: 't', partnerName: 'Northwind', trial: { offer: 'E5', seats: 1, days: 30 }, purchaseNext: true })).toContain('Next you choose whether to buy');
    expect(trialPage({ token: 't', partnerName: 'Northwind', trial: { offer: 'E5', seats: 1, days: 30 } })).toContain('takes effect when you choose below');
  });

  it('escapes a hostile product name', () => {
    const out = purchasePage({ token: 't', partnerName: 'N', purchase: { ...offer, product: hostileProduct } }, 'x');
    expect(out).not.toContain('<img');
    expect(out).toContain(escapedProduct);
  });
});

describe('the purchase step form', () => {
  const form = (fields: Record<string, string>) => invitationAnswerFormSchema.parse(fields);

  it('confirming needs the agreement ticked, with a message the page shows', () => {
    const unticked = purchaseAnswerSchema.safeParse(form({ choice: 'yes', purchase: 'confirm' }));
    expect(unticked.success).toBe(false);
    expect(unticked.error?.issues[0]?.message).toMatch(/tick the box to agree/);
    expect(purchaseAnswerSchema.parse(form({ choice: 'yes', purchase: 'confirm', agree: 'yes' }))).toEqual({ purchase: 'confirm', agree: 'yes' });
  });

  it('continuing without purchasing needs nothing ticked', () => {
    expect(purchaseAnswerSchema.parse(form({ choice: 'yes', purchase: 'skip' }))).toEqual({ purchase: 'skip' });
    expect(purchaseAnswerSchema.parse(form({ choice: 'yes', purchase: 'skip', agree: 'yes' }))).toEqual({ purchase: 'skip' });
  });

  it('refuses buttons and boxes the page never sends', () => {
    expect(invitationAnswerFormSchema.safeParse({ choice: 'yes', purchase: 'buy' }).success).toBe(false);
    expect(invitationAnswerFormSchema.safeParse({ choice: 'yes', purchase: 'confirm', agree: 'on' }).success).toBe(false);
  });
});

describe('the accepted page', () => {
  it('after a confirmed purchase says what happens next and who bills', () => {
    const text = textOf(acceptedPage('Northwind', null, { offer, confirmed: true }));
    expect(text).toContain('You agreed to buy Business Premium, 3 seats, EUR 0.30 per year.');
    expect(text).toContain("Northwind's system sets it up, and Northwind bills you for it.");
  });

  it('after continuing without it says nothing is bought', () => {
    const text = textOf(acceptedPage('Northwind', null, { offer, confirmed: false }));
    expect(text).toContain('You did not buy Business Premium; we told Northwind.');
    expect(text).not.toContain('agreed to buy');
  });
});

describe('the invitation email with a purchase offer', () => {
  let templates: EmailTemplates;
  beforeAll(async () => {
    templates = await compileEmailTemplates();
  });

  it('shows the same facts in HTML and text', () => {
    const { html, text } = templates.render('invitation', { ...emailSamples.invitation, partnerName: 'Northwind', purchase: offer });
    expectOfferShown(textOf(html));
    expectOfferShown(text.replace(/\s+/g, ' '));
    expect(text).toContain('Accepting does not depend on buying it.');
  });

  it('says nothing of a purchase without one', () => {
    const { html, text } = templates.render('invitation', { ...emailSamples.invitation, purchase: null });
    expect(html).not.toContain('Purchase offer');
    expect(text).not.toContain('Purchase offer');
  });

  it('escapes a hostile product name in HTML and keeps it readable in text', () => {
    const { html, text } = templates.render('invitation', { ...emailSamples.invitation, purchase: { ...offer, product: hostileProduct } });
    expect(html).not.toContain('<img');
    expect(html).toContain('Premium&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;&quot;&amp;&#x27;');
    expect(text).toContain(hostileProduct);
  });

  it('refuses an amount or a term the API would refuse, rather than sending a wrong price', () => {
    for (const bad of [{ pricePerSeat: { amount: '1e3', currency: 'EUR' } }, { pricePerSeat: { amount: '1', currency: 'euro' } }, { term: 'P5D' }, { seats: 0 }]) {
      expect(() => templates.renderUntyped('invitation', { ...emailSamples.invitation, purchase: { ...offer, ...bad } }), JSON.stringify(bad)).toThrow(/invalid data/);
    }
  });
});
