import { beforeAll, describe, expect, it } from 'vitest';
import { emailSamples } from '../../emails/emailSamples.js';
import type { PurchaseOffer } from '../../src/contract/purchase.js';
import { compileEmailTemplates, EmailDataError, type EmailTemplates } from '../../src/mail/emailTemplates.js';

// The three emails about a relationship's subscription (src/activities/subscriptionMail.ts):
// each words the purchase as the invitation did (product, seats, price per seat, the exact
// total per term, who bills, auto-renewal), escapes what the partner and its system chose,
// and says the right thing to each side. emails.test.ts checks them with every other email
// (every value shown, text = HTML, layout); this file checks what is particular to them.

/** 3 × 0.1 is 0.30000000000000004 as a float; the emails must say EUR 0.30. */
const offer: PurchaseOffer = { product: 'Business Premium', seats: 3, term: 'P3M', pricePerSeat: { amount: '0.1', currency: 'EUR' }, autoRenew: false };
const hostile = `Premium<img src=x onerror=alert(1)>"&'`;
const escapedHostile = 'Premium&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;&quot;&amp;&#x27;';

/** The visible words of an email's HTML, one space between them. */
const wordsOf = (html: string) =>
  html
    .replace(/^[\s\S]*?<body[^>]*>/i, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

let templates: EmailTemplates;

beforeAll(async () => {
  templates = await compileEmailTemplates();
});

const cases = [
  ['subscriptionDeclined', { ...emailSamples.subscriptionDeclined, purchase: offer }],
  ['subscriptionActive', { ...emailSamples.subscriptionActive, purchase: offer }],
  ['subscriptionFailed', { ...emailSamples.subscriptionFailed, purchase: offer, recipient: 'partner' }],
  ['subscriptionFailed', { ...emailSamples.subscriptionFailed, purchase: offer, recipient: 'customer' }],
] as const;

describe('the subscription emails', () => {
  it.each(cases)('%s words the purchase with its exact total, in HTML and text', (name, data) => {
    const { html, text } = templates.renderUntyped(name, data);
    for (const part of [wordsOf(html), text.replace(/\s+/g, ' ')]) {
      expect(part).toContain('Product: Business Premium');
      expect(part).toContain('Seats: 3');
      expect(part).toContain('Price per seat: EUR 0.1 per 3 months');
      expect(part).toContain('Total: EUR 0.30 per 3 months');
      expect(part).toMatch(/Billing: (billed by Northwind IT Services|by you,) every 3 months/);
      expect(part).toContain('Renews automatically: no');
      expect(part).not.toContain('0.30000000000000004');
    }
  });

  it.each(cases)('%s escapes a hostile product, partner and customer name in HTML and keeps them readable in text', (name, data) => {
    const rendered = templates.renderUntyped(name, {
      ...data,
      partnerName: `Northwind <script>alert(1)</script>`,
      customerName: `Contoso <b>Ltd</b>`,
      purchase: { ...offer, product: hostile },
    });
    expect(rendered.html).not.toMatch(/<script|<img|<b>Ltd/i);
    expect(rendered.html).toContain(escapedHostile);
    expect(rendered.html).toContain('Northwind &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(rendered.html).toContain('Contoso &lt;b&gt;Ltd&lt;/b&gt;');
    expect(rendered.text).toContain(hostile);
    expect(rendered.text).toContain('Contoso <b>Ltd</b>');
    // A subject is a header, not markup: it carries the product as typed, on one line.
    expect(rendered.subject).toContain(hostile);
    expect(rendered.subject).not.toMatch(/[\r\n]/);
  });

  it('subscriptionDeclined tells the partner not to create or bill it', () => {
    const { subject, text } = templates.render('subscriptionDeclined', emailSamples.subscriptionDeclined);
    expect(subject).toBe('Contoso Ltd continued without buying Business Premium');
    expect(text).toContain('Hello Northwind IT Services,');
    expect(text).toContain('On 2 December 2025 at 09:30 UTC, Contoso Ltd (contoso.example) accepted your partner request and chose not to buy');
    expect(text).toContain('Do not create this subscription or bill for it.');
    // 25 × EUR 12.35, exactly.
    expect(text).toContain('Total: EUR 308.75 per year');
  });

  it("subscriptionActive gives the customer the partner's reference and says who bills", () => {
    const { subject, html, text } = templates.render('subscriptionActive', emailSamples.subscriptionActive);
    expect(subject).toBe('Your Business Premium subscription from Northwind IT Services is active');
    expect(text).toContain("Northwind IT Services's reference: NW-SUB-2025-004711");
    expect(text).toContain('It is active since 2 December 2025 at 09:42 UTC.');
    expect(text).toContain('Renews automatically: yes, at the end of each year until you or Northwind IT Services cancel it');
    expect(text).toContain('Northwind IT Services bills you for it, not partnerflow.');
    expect(html).toContain('NW-SUB-2025-004711');
    const hostileRef = templates.render('subscriptionActive', { ...emailSamples.subscriptionActive, externalRef: '<b>x</b>' });
    expect(hostileRef.html).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(hostileRef.html).not.toContain('<b>x</b>');
  });

  it('subscriptionActive refuses a reference with spaces or line breaks, as the API does', () => {
    expect(() => templates.render('subscriptionActive', { ...emailSamples.subscriptionActive, externalRef: 'a b' })).toThrow(EmailDataError);
    expect(() => templates.render('subscriptionActive', { ...emailSamples.subscriptionActive, externalRef: '' })).toThrow(EmailDataError);
  });

  it('subscriptionFailed words each side and shows the cleaned reason to both', () => {
    const reason = `No billing account.\r\n<script>alert(1)</script>`;
    const toPartner = templates.render('subscriptionFailed', { ...emailSamples.subscriptionFailed, recipient: 'partner', reason });
    const toCustomer = templates.render('subscriptionFailed', { ...emailSamples.subscriptionFailed, recipient: 'customer', reason });
    expect(toPartner.subject).toBe(toCustomer.subject);
    expect(toPartner.subject).toBe('The Business Premium subscription for Contoso Ltd could not be set up');
    expect(toPartner.text).toContain('Hello Northwind IT Services,');
    expect(toPartner.text).toContain('The subscription that Contoso Ltd (contoso.example) agreed to was marked failed on 5 December 2025 at 09:42 UTC');
    expect(toPartner.text).toContain('Contact Contoso Ltd to arrange the subscription another way.');
    expect(toCustomer.text).not.toContain('Hello Northwind');
    expect(toCustomer.text).toContain('Northwind IT Services could not set up the subscription you agreed to for Contoso Ltd (contoso.example).');
    expect(toCustomer.text).toContain('Your partner relationship with Northwind IT Services is not affected.');
    for (const { html, text } of [toPartner, toCustomer]) {
      expect(text).toContain('What went wrong:\nNo billing account.\n<script>alert(1)</script>');
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(html).not.toContain('<script>');
    }
    const noReason = templates.render('subscriptionFailed', { ...emailSamples.subscriptionFailed, reason: null });
    expect(noReason.text).not.toContain('What went wrong');
  });

  it('takes the data subscriptionMail sends, extra fields and all, after a JSON round trip', () => {
    // sendSubscriptionMail sends one data object to all three, with the other steps' fields in it.
    const data = {
      ...emailSamples.subscriptionFailed,
      recipient: 'partner',
      purchase: offer,
      externalRef: null,
      declinedAt: '2025-12-05T09:42:00.000Z',
      activatedAt: '2025-12-05T09:42:00.000Z',
    };
    for (const name of ['subscriptionDeclined', 'subscriptionFailed'] as const) {
      expect(templates.renderUntyped(name, JSON.parse(JSON.stringify(data))).text).toContain('Total: EUR 0.30 per 3 months');
    }
    const active = { ...data, externalRef: 'local-sub-0123456789abcdef' };
    expect(templates.renderUntyped('subscriptionActive', active).text).toContain("Northwind IT Services's reference: local-sub-0123456789abcdef");
  });
});
