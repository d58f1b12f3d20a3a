import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Handlebars from 'handlebars';
import mjml2html from 'mjml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sampleVariants } from '../../emails/emailSampleVariants.js';
import { emailSamples } from '../../emails/emailSamples.js';
import {
  compileEmailTemplates,
  defaultEmailsDirectory,
  EmailDataError,
  emailRegistry,
  EmailTemplateError,
  emailTemplateNames,
  type EmailTemplateName,
  type EmailTemplates,
} from '../../src/mail/emailTemplates.js';

// Counts MJML compilations, to prove they happen at start-up and never per message.
vi.mock('mjml', async (importOriginal) => {
  const actual = await importOriginal<{ default: typeof mjml2html }>();
  return { default: vi.fn(actual.default) };
});
const mjmlCalls = () => vi.mocked(mjml2html).mock.calls.length;

const xss = '<script>alert(1)</script>';
const escapedXss = '&lt;script&gt;alert(1)&lt;/script&gt;';
const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'UTC' });
const isoDate = /^\d{4}-\d{2}-\d{2}T/;

function sample(name: EmailTemplateName): Record<string, unknown> {
  return { ...emailSamples[name] };
}

/** Every value in the data that should show in the message, with the key it sits under. */
function* shownValues(value: unknown, key = ''): Generator<[string, string | number]> {
  if (Array.isArray(value)) for (const item of value) yield* shownValues(item, key);
  else if (value !== null && typeof value === 'object') {
    for (const [childKey, child] of Object.entries(value)) yield* shownValues(child, childKey);
  }
  // A purchase's term is shown in words ("per year"), not as its ISO 8601 code (P1Y).
  else if (typeof value === 'string' && key !== 'recipient' && key !== 'term') yield [key, value];
  // Durations are shown in words ("2 years"), not as a number of seconds.
  else if (typeof value === 'number' && !key.endsWith('Seconds')) yield [key, value];
}

function decodeEntities(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"' };
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, code: string) => {
    if (code.startsWith('#x') || code.startsWith('#X')) return String.fromCodePoint(parseInt(code.slice(2), 16));
    if (code.startsWith('#')) return String.fromCodePoint(parseInt(code.slice(1), 10));
    return named[code] ?? entity;
  });
}

const hrefs = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((match) => decodeEntities(match[1] ?? ''));

/** What a mail client shows of an email's HTML, line by line: each block of text, without tags or the hidden preview. */
function shownLines(html: string): string[] {
  const body = html
    .replace(/^[\s\S]*?<body[^>]*>/i, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    // mj-preview: the inbox list's one-line summary, repeated from the body and hidden in the message itself.
    .replace(/<div style="display:none;[^"]*">[\s\S]*?<\/div>/, '')
    .replace(/<\/?(?:p|div|li|ul|ol|td|tr|table|tbody|br|h\d)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, '');
  return decodeEntities(body)
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .filter((line) => line !== '');
}

/** Words only the HTML needs: the text part has no button, so it gives the link itself where the HTML gives the button. */
const htmlOnlyWords = "If the button doesn't work, open this link: ";

/** Each email, its sample's variants: both wordings, no optional fields, long unbroken values. */
const variants = emailTemplateNames.flatMap((name) => sampleVariants(name).map(({ label, data }) => [name, label, data] as const));

let templates: EmailTemplates;
let callsAtStartUp: number;

beforeAll(async () => {
  templates = await compileEmailTemplates();
  callsAtStartUp = mjmlCalls();
});

describe('every email', () => {
  it('compiles each MJML file exactly once at start-up', () => {
    expect(callsAtStartUp).toBe(emailTemplateNames.length);
  });

  it.each(variants)('%s (%s) renders with every variable, a subject and a text part', (name, _label, data) => {
    const { subject, html, text } = templates.renderUntyped(name, data);

    expect(subject.trim()).not.toBe('');
    expect(subject).not.toMatch(/[\r\n]/);
    expect(text.trim().length).toBeGreaterThan(50);
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('<html lang="en"');
    expect(html).toContain(`<title>${Handlebars.escapeExpression(subject)}</title>`);
    // Shared layout: header and footer come from emails/layout.
    expect(html).toContain('partnerflow</div>');
    expect(text).toContain('Replies to this address are not read.');
    for (const part of [subject, html, text]) expect(part).not.toContain('{{');

    for (const [key, value] of shownValues(data)) {
      if (typeof value === 'string' && isoDate.test(value)) {
        const shown = dateFormat.format(new Date(value));
        expect(text, key).toContain(shown);
        expect(html, key).toContain(shown);
      } else {
        expect(text, key).toContain(String(value));
        expect(html, key).toContain(Handlebars.escapeExpression(String(value)));
      }
    }
  });

  it.each(variants)('%s (%s): the text part carries every link and everything the HTML shows', (name, _label, data) => {
    const { html, text } = templates.renderUntyped(name, data);
    const plain = text.replace(/\s+/g, ' ');

    for (const href of hrefs(html)) {
      // A plain-text reader's mail client links an address by itself.
      expect(text, href).toContain(href.startsWith('mailto:') ? href.slice('mailto:'.length) : href);
    }
    const lines = shownLines(html);
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(plain, line).toContain(line.replace(htmlOnlyWords, ''));
  });

  it.each(emailTemplateNames)('%s escapes a hostile name in HTML and keeps it readable in text', (name) => {
    const data = sample(name);
    for (const key of ['partnerName', 'customerName', 'terms', 'reason']) if (key in data) data[key] = xss;
    const { subject, html, text } = templates.renderUntyped(name, data);

    expect(html).not.toMatch(/<script/i);
    expect(html).toContain(escapedXss);
    expect(text).toContain(xss);
    if (subject.includes('alert')) expect(subject).toContain(xss);
  });
});

describe('links', () => {
  const linked = emailTemplateNames.flatMap((name) =>
    Object.keys(emailSamples[name])
      .filter((key) => key.endsWith('Url'))
      .map((key) => [name, key] as const),
  );

  it('covers the emails that carry a link', () => {
    expect(linked.map(([name]) => name).sort()).toEqual(['adminInvitation', 'domainVerification', 'invitation', 'reminder', 'signIn']);
  });

  it.each(linked)('%s puts %s in a working href, escaped for HTML', (name, key) => {
    const url = 'https://partners.example.com/invitations/k7Qm2vXr?ref=mail&lang=en';
    const { html, text } = templates.renderUntyped(name, { ...sample(name), [key]: url });

    expect(html).toContain('href="https://partners.example.com/invitations/k7Qm2vXr?ref&#x3D;mail&amp;lang&#x3D;en"');
    const links = hrefs(html).filter((href) => href.startsWith('https://partners.example.com/'));
    expect(links.length).toBeGreaterThanOrEqual(2); // the button and the fallback link
    for (const href of links) expect(new URL(href).href).toBe(url);
    expect(text).toContain(url);
  });

  it('percent-encodes a URL that tries to break out of the attribute', () => {
    const { html } = templates.render('invitation', {
      ...emailSamples.invitation,
      invitationUrl: 'https://partners.example.com/invitations/x" onmouseover="alert(1)',
    });
    expect(html).not.toContain('onmouseover="');
    expect(hrefs(html)).toContain('https://partners.example.com/invitations/x%22%20onmouseover=%22alert(1)');
  });
});

describe('data validation', () => {
  const refused: Array<[string, EmailTemplateName, Record<string, unknown>, string]> = [
    ['a javascript: link', 'invitation', { invitationUrl: 'javascript:alert(1)' }, 'invitationUrl'],
    ['a missing partner name', 'accepted', { partnerName: undefined }, 'partnerName'],
    ['a line break in a name (header injection)', 'declined', { customerName: 'Contoso\r\nBcc: x@evil.example' }, 'customerName'],
    ['an empty role list', 'invitation', { roles: [] }, 'roles'],
    ['a date that is not ISO-8601', 'reminder', { expiresAt: 'next tuesday' }, 'expiresAt'],
    ['an unknown recipient', 'removed', { recipient: 'operator' }, 'recipient'],
    ['a relationship ID that is not a UUID', 'expired', { relationshipId: '42' }, 'relationshipId'],
    ['a bad address', 'deliveryFailed', { adminEmail: 'not-an-address' }, 'adminEmail'],
    ['zero days left', 'endingSoon', { daysLeft: 0 }, 'daysLeft'],
    ['a forwarder that is not an address', 'invitation', { forwardedBy: 'Mallory <script>' }, 'forwardedBy'],
    ['a javascript: verification link', 'domainVerification', { verifyUrl: 'javascript:alert(1)' }, 'verifyUrl'],
    ['a domain that is not a domain name', 'domainVerification', { tenantDomain: 'contoso.example/<b>' }, 'tenantDomain'],
    ['a line break in the inviter (header injection)', 'adminInvitation', { invitedBy: 'it-admin@contoso.example\r\nBcc: x@evil.example' }, 'invitedBy'],
    ['a data: confirmation link', 'adminInvitation', { confirmUrl: 'data:text/html,<script>alert(1)</script>' }, 'confirmUrl'],
  ];

  it.each(refused)('refuses %s', (_label, name, change, field) => {
    const render = () => templates.renderUntyped(name, { ...sample(name), ...change });
    expect(render).toThrow(EmailDataError);
    try {
      render();
    } catch (error) {
      expect(error).toBeInstanceOf(EmailDataError);
      const dataError = error as EmailDataError;
      expect(dataError.template).toBe(name);
      expect(dataError.issues.map((issue) => issue.path[0])).toContain(field);
      expect(dataError.message).toContain(`"${name}"`);
    }
  });

  it('refuses an unknown template name', () => {
    expect(() => templates.renderUntyped('welcome', {})).toThrow(EmailTemplateError);
  });

  it('accepts the same data after a JSON round trip, as from a job queue', () => {
    const data = { ...emailSamples.invitation, expiresAt: new Date('2025-12-14T10:00:00Z') };
    const direct = templates.render('invitation', data);
    const queued = templates.renderUntyped('invitation', JSON.parse(JSON.stringify(data)));
    expect(queued).toEqual(direct);
  });

  it('schemas fill optional fields so strict templates always find them', () => {
    const { terms, trial, durationSeconds, autoExtend, forwardedBy, ...required } = emailSamples.invitation;
    expect([terms, trial, durationSeconds, autoExtend, forwardedBy].every((value) => value !== undefined)).toBe(true);
    const parsed = emailRegistry.invitation.schema.parse(required);
    expect(parsed).toMatchObject({ terms: null, trial: null, durationSeconds: null, autoExtend: false, forwardedBy: null });
    const { text } = templates.render('invitation', required);
    expect(text).toContain('How long: until you or Northwind IT Services end it.');
    expect(text).not.toContain('Trial offer');
  });
});

describe('wording', () => {
  it('words durations and counts for people', () => {
    const days = (durationSeconds: number) =>
      templates.render('invitation', { ...emailSamples.invitation, durationSeconds, autoExtend: false }).text;
    expect(days(730 * 86_400)).toContain('How long: 2 years.');
    expect(days(90 * 86_400)).toContain('How long: 90 days.');
    expect(days(30)).toContain('How long: 30 seconds.');
    expect(templates.render('endingSoon', { ...emailSamples.endingSoon, daysLeft: 1 }).subject).toMatch(/ends in 1 day$/);
  });

  it('addresses each side of a relationship that ended', () => {
    const toPartner = templates.render('removed', { ...emailSamples.removed, recipient: 'partner' }).text;
    const toCustomer = templates.render('removed', { ...emailSamples.removed, recipient: 'customer' }).text;
    expect(toPartner).toContain('Contoso Ltd removed you as a partner');
    expect(toCustomer).toContain('Northwind IT Services was removed as a partner');
  });
});

describe('tenant directory emails', () => {
  const forwardedNotice = 'm.jones@contoso.example forwarded this request to you because you are an admin of Contoso Ltd.';
  const htmlHostile = '<b>Contoso</b> & "Partners"';
  const escapedHostile = '&lt;b&gt;Contoso&lt;/b&gt; &amp; &quot;Partners&quot;';

  /** The button and the fallback link both lead to `url`, and the text part shows it. */
  function expectLinkInBothParts({ html, text }: { html: string; text: string }, url: string): void {
    expect(hrefs(html).filter((href) => href === url)).toHaveLength(2);
    expect(text).toContain(url);
  }

  it('domainVerification links to the verification page and explains the DNS step', () => {
    const rendered = templates.render('domainVerification', emailSamples.domainVerification);
    expect(rendered.subject).toBe('Verify contoso.example for partner relationships');
    expectLinkInBothParts(rendered, 'https://partners.example.com/tenants/verify/Hq3Wn8Ld2Xc5Vb9Tr1Ym6Kp4Js7Gf0Ae');
    for (const part of [rendered.html, rendered.text]) {
      expect(part).toContain('DNS TXT record');
      expect(part).toContain('expires on 3 December 2025 at 09:30 UTC');
      expect(part).toContain('nothing happens without the DNS record');
    }
  });

  it('adminInvitation links to the confirmation page and names who invited', () => {
    const rendered = templates.render('adminInvitation', emailSamples.adminInvitation);
    expect(rendered.subject).toBe('it-admin@contoso.example invited you to administer partner relationships for Contoso Ltd');
    expectLinkInBothParts(rendered, 'https://partners.example.com/admins/confirm/Pm5Rt8Wq2Zn7Xc4Lv1Hb9Kd3Fg6Ys0Je');
    expect(hrefs(rendered.html)).toContain('mailto:it-admin@contoso.example');
    for (const part of [rendered.html, rendered.text]) {
      expect(part).toContain('you can authorize partners to administer Contoso Ltd, and remove them');
      expect(part).toContain('works once and expires on 9 December 2025 at 09:30 UTC');
    }
  });

  it('invitation says near the top who forwarded it, only when someone did', () => {
    const forwarded = templates.render('invitation', { ...emailSamples.invitation, forwardedBy: 'm.jones@contoso.example' });
    const direct = templates.render('invitation', { ...emailSamples.invitation, forwardedBy: null });
    const { forwardedBy: _omitted, ...withoutField } = emailSamples.invitation;
    const leftOut = templates.render('invitation', withoutField);

    expect(forwarded.text).toContain(forwardedNotice);
    expect(forwarded.html).toContain(
      '<a href="mailto:m.jones@contoso.example" style="padding:6px 0;">m.jones@contoso.example</a> forwarded this request to you because you are an admin of Contoso Ltd.',
    );
    for (const part of [forwarded.html, forwarded.text]) {
      const notice = part.indexOf('forwarded this request to you');
      expect(notice).toBeGreaterThan(-1);
      expect(notice).toBeLessThan(part.indexOf('asks for delegated admin access'));
    }
    for (const part of [direct.html, direct.text]) {
      expect(part).not.toContain('forwarded');
      expect(part).not.toContain('m.jones@contoso.example');
    }
    expect(leftOut).toEqual(direct);
    // Nothing else changes: same subject, and without the notice the same text.
    expect(forwarded.subject).toBe(direct.subject);
    expect(forwarded.text.replace(`\n${forwardedNotice} Only an admin can authorize a partner.\n`, '')).toBe(direct.text);
  });

  it.each(['domainVerification', 'adminInvitation', 'invitation'] as const)('%s escapes HTML in the customer name', (name) => {
    const { subject, html, text } = templates.renderUntyped(name, { ...sample(name), customerName: htmlHostile });
    expect(html).not.toContain('<b>Contoso');
    expect(html).toContain(escapedHostile);
    expect(text).toContain(htmlHostile);
    if (subject.includes('Contoso')) expect(subject).toContain(htmlHostile);
  });
});

describe('compiled once', () => {
  it('renders thousands of messages without running MJML again', async () => {
    const before = mjmlCalls();
    const count = 2_000;
    const started = performance.now();
    for (let i = 0; i < count; i += 1) {
      const name = emailTemplateNames[i % emailTemplateNames.length] ?? 'invitation';
      templates.renderUntyped(name, emailSamples[name]);
    }
    const perMessageMs = (performance.now() - started) / count;

    expect(mjmlCalls()).toBe(before);
    // One raw MJML render takes milliseconds; a compiled fill takes tens of µs.
    expect(perMessageMs).toBeLessThan(1);
    expect(await compileEmailTemplates()).toBe(templates);
    expect(mjmlCalls()).toBe(before);
  });
});

describe('start-up fails on a broken template, naming it', () => {
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'partnerflow-emails-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function compileWith(file: string, edit: (source: string) => string): Promise<unknown> {
    const copy = path.join(directory, String(Math.random()).slice(2));
    await cp(defaultEmailsDirectory, copy, { recursive: true });
    const target = path.join(copy, file);
    await writeFile(target, edit(await readFile(target, 'utf8')));
    return compileEmailTemplates({ directory: copy }).then(
      () => undefined,
      (error: unknown) => error,
    );
  }

  const cases: Array<[string, EmailTemplateName, string, (source: string) => string, RegExp]> = [
    [
      'invalid MJML',
      'declined',
      'declined.mjml',
      (s) => s.replace('<mj-text mj-class="muted">', '<mj-text mj-class="muted" colour="red">'),
      /MJML: validation failed:.*Line \d+.*colour is illegal/s,
    ],
    ['a missing include', 'reminder', 'reminder.mjml', (s) => s.replace('layout/footer.mjml', 'layout/fotter.mjml'), /mj-include failed/],
    [
      'a placeholder MJML drops',
      'accepted',
      'accepted.mjml',
      (s) => s.replace('<mj-head>', '<mj-head><mj-style inline="inline">.x { color: {{brandColor}}; }</mj-style>'),
      /placeholders changed by MJML compilation: \{\{brandColor\}\}/,
    ],
    ['unescaped output', 'signIn', 'signIn.mjml', (s) => s.replace('{{customerName}}', '{{{customerName}}}'), /unescaped output/],
    ['a field the schema lacks', 'expired', 'expired.txt.hbs', (s) => `{{partnerNmae}}\n${s}`, /does not render its sample data.*partnerNmae/s],
    [
      "a field only the other side's wording uses",
      'removed',
      'removed.txt.hbs',
      (s) => s.replace('To work with {{customerName}} again', 'To work with {{customerNmae}} again'),
      /does not render its sample data.*customerNmae/s,
    ],
    ['an unknown helper', 'renewed', 'renewed.mjml', (s) => s.replace('{{dateTime endsAt}}', '{{formatDate endsAt}}'), /formatDate/],
    ['an unknown partial', 'trialReady', 'trialReady.txt.hbs', () => '{{> nosuchpartial}}', /does not render its sample data/],
  ];

  it.each(cases)('%s', async (_label, name, file, edit, detail) => {
    const error = await compileWith(file, edit);
    expect(error).toBeInstanceOf(EmailTemplateError);
    expect((error as EmailTemplateError).template).toBe(name);
    expect((error as Error).message).toContain(`email template "${name}"`);
    expect((error as Error).message).toMatch(detail);
  }, 60_000);

  it('a missing file', async () => {
    const copy = path.join(directory, 'missing');
    await cp(defaultEmailsDirectory, copy, { recursive: true });
    await rm(path.join(copy, 'terminated.txt.hbs'));
    await expect(compileEmailTemplates({ directory: copy })).rejects.toThrow(/email template "terminated": cannot read/);
  }, 60_000);
});
