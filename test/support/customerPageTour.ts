import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { runBrowserSteps, screenshotTaker, useChromium } from './browser.js';
import { useTestDnsServer, type TestDnsServer } from './dnsServer.js';
import { apiClient } from './http.js';
import {
  answer,
  getPage,
  invitationLink,
  mailTo,
  offer,
  registerTenant,
  waitFor,
  waitForStatus,
  type Customer,
  type Partner,
} from './relationshipDriver.js';
import { linkInMail, mailSubjects } from './tenantDriver.js';
import type { TestSystem } from './testSystem.js';
import { useTestSystem } from './useTestSystem.js';

// Every customer page in every state, reached the way people reach them: the partner API, the
// emailed links (from the SMTP catcher), the forms, a resend that supersedes a link, an invitation
// that expires (2 s; ALLOW_SHORT_DURATIONS is on in tests), a real DNS server for the domain proof.
// Whatever a page shows that a partner or a visitor chose is as long as it may be and one unbroken
// word: 200-character names, 63-character domain labels, addresses at those domains.
//
// A test hands the tour an `inspect` function; each chapter calls it once per state, on the page
// showing that state. The reflow and accessibility tests run the same tour with their own checks.

/** One state of one page, as the tour reaches it. */
export interface TourStop {
  /** Unique within the tour: 'authorization-error', 'partner-list-empty'. */
  name: string;
  /** The step the page is: states that are the same step (the list with rows and empty) share it, so they may share a title. */
  step: string;
  /** The page shows an error about what was typed in its form. */
  formError: boolean;
}

export type Inspect = (page: Page, stop: TourStop) => Promise<void>;

const stop = (name: string, { step = name, formError = false }: { step?: string; formError?: boolean } = {}): TourStop => ({ name, step, formError });

const hex = () => randomBytes(3).toString('hex');

/** One unbroken word of 200 characters, the longest name an offer or a tenant may have. */
export const longWord = (prefix: string) => `${prefix}${hex()}${'Supercalifragilistic'.repeat(10)}`.slice(0, 200);

/** A valid domain of 194 characters whose labels are each one long word (63, the most DNS allows). */
export const longDomain = (prefix: string) =>
  [`${prefix}${hex()}`.padEnd(63, 'x'), 'y'.repeat(63), 'z'.repeat(57), 'example'].join('.');

/** A customer whose name, domain and admin address are as long and unbroken as they may be. */
export function hostileCustomer(label: string): Customer {
  const tenantDomain = longDomain(label);
  return { tenantDomain, adminEmail: `administrator@${tenantDomain}`, name: longWord(`Customer${label}`) };
}

/** A partner registered by the operator, with a 200-character one-word name and a long contact address. */
export async function hostilePartner(system: TestSystem, label: string): Promise<Partner> {
  const operator = apiClient(system.baseUrl, system.operatorToken);
  const name = longWord(`Partner${label}`);
  const contactEmail = `operations@${longDomain(label)}`;
  const created = await operator.post('/api/v1/admin/partners', { name, contactEmail });
  expect(created.status, created.text).toBe(201);
  return { id: String(created.json.id), name, contactEmail, api: apiClient(system.baseUrl, String(created.json.apiKey)) };
}

const longTerms = `We manage your users and licenses. ${longWord('Termsandconditions')}`;
const hostileTrial = () => ({ offer: longWord('Offer'), seats: 25, days: 30 });

/** What a chapter of the tour works with. */
interface Tour {
  system: TestSystem;
  dns: TestDnsServer;
}

export interface Chapter {
  name: string;
  /** Every stop the chapter makes, in order. */
  stops: string[];
  visit(tour: Tour, page: Page, inspect: Inspect): Promise<void>;
}

const heading = (page: Page, name: string) => page.getByRole('heading', { level: 1, name }).waitFor();

/**
 * Lets the form post without the browser's own check (`required`, `type="email"`), so the server's
 * answer to what it refuses is what the tour sees. A page script: the project's types have no DOM library.
 */
const skipBrowserValidation = (page: Page, form: string) =>
  page.locator(form).evaluate((element) => {
    (element as { noValidate: boolean }).noValidate = true;
  });

/** Signs `email` in from the sign-in form `page` shows, by the emailed link, inspecting the states on the way if asked. */
async function signIn(system: TestSystem, page: Page, to: Customer, email: string, inspect?: Inspect) {
  await page.getByLabel('Organisation domain').fill(to.tenantDomain);
  await page.getByLabel('Admin email').fill(email);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await page.getByText('a sign-in link is on its way').waitFor();
  await inspect?.(page, stop('sign-in-asked'));
  await page.goto(linkInMail(await mailTo(system, email, mailSubjects.signIn), '/sign-in'));
  await heading(page, 'Sign in');
  await inspect?.(page, stop('sign-in-confirm'));
  await page.getByRole('button', { name: `Sign in as ${email}` }).click();
  await heading(page, 'Partner relationships');
}

export const tourChapters: Chapter[] = [
  {
    name: 'invitation answers and link problems',
    stops: [
      'authorization',
      'authorization-error',
      'declined',
      'link-used',
      'authorization-with-trial',
      'trial-step',
      'accepted',
      'link-superseded',
      'link-unknown',
      'link-expired',
    ],
    async visit({ system }, page, inspect) {
      const partner = await hostilePartner(system, 'answers');
      // Offered first, so its 2 seconds run out while the other pages are looked at.
      const expiring = hostileCustomer('expiring');
      const expired = await offer(system, partner, expiring, { invitationTtl: '2s' });
      const plain = hostileCustomer('plain');
      await offer(system, partner, plain, { terms: longTerms });
      const withTrial = hostileCustomer('trial');
      await offer(system, partner, withTrial, { terms: longTerms, trial: hostileTrial() });
      const resent = hostileCustomer('resent');
      const resentOffer = await offer(system, partner, resent);

      const plainLink = await invitationLink(system, plain);
      await page.goto(plainLink);
      await heading(page, `${partner.name} asks for admin access to ${plain.name}`);
      await inspect(page, stop('authorization'));

      await skipBrowserValidation(page, `form[action^="/invitations/"]`);
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByText('Choose Yes or No, then select Next.').waitFor();
      await inspect(page, stop('authorization-error', { formError: true }));

      await page.getByRole('radio', { name: 'No', exact: true }).check();
      await page.getByLabel('Reason if you say No (optional)').fill(longWord('Reason'));
      await page.getByRole('button', { name: 'Next' }).click();
      await heading(page, `You declined ${partner.name}'s request`);
      await inspect(page, stop('declined'));

      await page.goto(plainLink);
      await heading(page, 'This invitation was already used');
      await inspect(page, stop('link-used'));

      await page.goto(await invitationLink(system, withTrial));
      await heading(page, `${partner.name} asks for admin access to ${withTrial.name}`);
      await inspect(page, stop('authorization-with-trial', { step: 'authorization' }));
      await page.getByRole('radio', { name: /^Yes/ }).check();
      await page.getByRole('button', { name: 'Next' }).click();
      await heading(page, 'One more step: your trial');
      await inspect(page, stop('trial-step'));
      await page.getByRole('button', { name: 'Start the trial' }).click();
      await heading(page, `You authorized ${partner.name}`);
      await inspect(page, stop('accepted'));

      const firstLink = await invitationLink(system, resent);
      const resend = await partner.api.post(`/api/v1/relationships/${resentOffer.id}/resend`, {});
      expect(resend.status, resend.text).toBe(200);
      await waitFor(async () => (await getPage(firstLink)).status === 410, { what: 'the first link revoked by the resend' });
      await page.goto(firstLink);
      await heading(page, 'This link was replaced');
      await inspect(page, stop('link-superseded'));

      await page.goto(`${system.baseUrl}/invitations/not-a-real-token`);
      await heading(page, 'This link is not valid');
      await inspect(page, stop('link-unknown'));

      await waitForStatus(partner, expired.id, 'invitationExpired');
      await page.goto(await invitationLink(system, expiring));
      await heading(page, 'This invitation has expired');
      await inspect(page, stop('link-expired'));
    },
  },
  {
    name: 'a partner the operator paused',
    stops: ['partner-paused'],
    async visit({ system }, page, inspect) {
      const partner = await hostilePartner(system, 'paused');
      const to = hostileCustomer('paused');
      await offer(system, partner, to, { terms: longTerms });
      const link = await invitationLink(system, to);
      const paused = await apiClient(system.baseUrl, system.operatorToken).post(`/api/v1/admin/partners/${partner.id}/pause`, { reason: longWord('Reason') });
      expect(paused.status, paused.text).toBe(200);
      await page.goto(link);
      await heading(page, `${partner.name} asks for admin access to ${to.name}`);
      await page.getByText('cannot be accepted now').waitFor();
      await inspect(page, stop('partner-paused'));
    },
  },
  {
    name: 'not an admin; an unregistered domain',
    stops: ['not-admin', 'forwarded', 'unregistered', 'unregistered-error', 'challenge', 'challenge-missing', 'verified'],
    async visit({ system, dns }, page, inspect) {
      const partner = await hostilePartner(system, 'authority');
      const registered = hostileCustomer('registered');
      const contact: Customer = { ...registered, adminEmail: `helpdesk@${registered.tenantDomain}` };
      await registerTenant(system, registered, [registered.adminEmail]);
      await offer(system, partner, contact, {}, { registered: false });
      await page.goto(await invitationLink(system, contact));
      await heading(page, `${partner.name} asks for admin access to ${registered.name}`);
      await inspect(page, stop('not-admin'));
      await page.getByRole('button', { name: "Send this request to my organisation's admins" }).click();
      await heading(page, 'We sent the request to your admins');
      await inspect(page, stop('forwarded'));

      const unregistered = hostileCustomer('unregistered');
      await offer(system, partner, unregistered, {}, { registered: false });
      await page.goto(await invitationLink(system, unregistered));
      await heading(page, `${partner.name} asks for admin access to ${unregistered.tenantDomain}`);
      await inspect(page, stop('unregistered'));
      // Blanks pass the browser's `required`; the server trims them and refuses the empty name.
      await page.getByLabel('Organisation name').fill('   ');
      await page.getByRole('button', { name: `Verify ${unregistered.tenantDomain}` }).click();
      await page.getByText('Organisation name must not be empty.').waitFor();
      await inspect(page, stop('unregistered-error', { formError: true }));
      await page.getByLabel('Organisation name').fill(unregistered.name);
      await page.getByRole('button', { name: `Verify ${unregistered.tenantDomain}` }).click();
      await heading(page, `Verify ${unregistered.tenantDomain}`);
      await inspect(page, stop('challenge'));

      const recordName = (await page.locator('#record-name').innerText()).trim();
      const recordValue = (await page.locator('#record-value').innerText()).trim();
      try {
        await page.getByRole('button', { name: 'Verify', exact: true }).click();
        await page.getByText('We found no TXT record').waitFor();
        await inspect(page, stop('challenge-missing', { formError: true }));
        dns.publish(recordName, recordValue);
        await page.getByRole('button', { name: 'Verify', exact: true }).click();
        await heading(page, `${unregistered.tenantDomain} is verified`);
        await inspect(page, stop('verified'));
      } finally {
        dns.unpublish(recordName);
      }
    },
  },
  {
    name: 'sign-in, Partner relationships, Delete',
    stops: [
      'sign-in-bad-link',
      'sign-in',
      'sign-in-error',
      'sign-in-asked',
      'sign-in-confirm',
      'partner-list',
      'delete-confirm',
      'removed',
      'partner-list-empty',
      'partner-list-ended',
    ],
    async visit({ system }, page, inspect) {
      const partner = await hostilePartner(system, 'listed');
      const to = hostileCustomer('listed');
      const { id } = await offer(system, partner, to, { duration: '30d' });
      expect((await answer(await invitationLink(system, to), { yes: true })).status).toBe(200);
      await waitForStatus(partner, id, 'active');

      await page.goto(`${system.baseUrl}/sign-in/not-a-real-token`);
      await page.getByText('That sign-in link is expired or was already used').waitFor();
      await inspect(page, stop('sign-in-bad-link'));

      await page.goto(`${system.baseUrl}/partner-relationships`);
      await page.getByRole('button', { name: 'Email me a sign-in link' }).waitFor();
      await inspect(page, stop('sign-in'));
      await page.getByLabel('Organisation domain').fill('not a domain');
      await page.getByLabel('Admin email').fill(to.adminEmail);
      await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
      await page.getByText('Enter your organisation domain and a valid email address.').waitFor();
      await inspect(page, stop('sign-in-error', { formError: true }));
      await signIn(system, page, to, to.adminEmail, inspect);

      await page.getByRole('row', { name: new RegExp(partner.name) }).waitFor();
      await inspect(page, stop('partner-list', { step: 'partner-list-active' }));
      await page.getByRole('button', { name: `Delete ${partner.name}` }).click();
      await heading(page, 'Are you sure?');
      await inspect(page, stop('delete-confirm'));
      await page.getByRole('button', { name: 'Yes', exact: true }).click();
      await heading(page, `${partner.name} was removed`);
      await inspect(page, stop('removed'));
      await page.getByRole('link', { name: 'Back to Partner relationships' }).click();
      await page.getByText("We didn't find anything to show here.").waitFor();
      await inspect(page, stop('partner-list-empty', { step: 'partner-list-active' }));
      await page.getByRole('link', { name: 'ended', exact: true }).click();
      await page.getByRole('row', { name: new RegExp(`${partner.name}.*terminated`) }).waitFor();
      await inspect(page, stop('partner-list-ended'));
    },
  },
  {
    name: 'tenant admins and registration',
    stops: ['admins', 'admins-error', 'admins-invited', 'confirm-admin', 'admin-confirmed', 'admins-two', 'new-tenant', 'new-tenant-error', 'verification-sent', 'challenge-unknown'],
    async visit({ system }, page, inspect) {
      const to = hostileCustomer('admins');
      const deputy = `deputy@${to.tenantDomain}`;
      await registerTenant(system, to);
      await page.goto(`${system.baseUrl}/partner-relationships`);
      await signIn(system, page, to, to.adminEmail);

      await page.goto(`${system.baseUrl}/tenant-admins`);
      await heading(page, `Admins of ${to.name}`);
      await inspect(page, stop('admins'));
      await skipBrowserValidation(page, 'form[action="/tenant-admins"]');
      await page.getByLabel('Email address').fill('not-an-address');
      await page.getByRole('button', { name: 'Invite admin' }).click();
      await page.getByText('Enter a valid email address.').waitFor();
      await inspect(page, stop('admins-error', { formError: true }));
      await page.getByLabel('Email address').fill(deputy);
      await page.getByRole('button', { name: 'Invite admin' }).click();
      await page.getByText(`We emailed ${deputy} a link`).waitFor();
      await inspect(page, stop('admins-invited', { step: 'admins' }));

      await page.goto(linkInMail(await mailTo(system, deputy, mailSubjects.adminInvitation), '/tenant-admins/confirm'));
      await heading(page, `Become an admin of ${to.name}`);
      await inspect(page, stop('confirm-admin'));
      await page.getByRole('button', { name: 'Confirm' }).click();
      await heading(page, `You are an admin of ${to.name}`);
      await inspect(page, stop('admin-confirmed'));
      // Back as the first admin (this browser's session): two admins, each with Remove.
      await page.goto(`${system.baseUrl}/tenant-admins`);
      await page.getByRole('button', { name: `Remove ${deputy}` }).waitFor();
      await inspect(page, stop('admins-two', { step: 'admins' }));

      const newcomer = hostileCustomer('newcomer');
      await page.goto(`${system.baseUrl}/tenants/new`);
      await heading(page, 'Register your organisation');
      await inspect(page, stop('new-tenant'));
      await page.getByLabel('Domain').fill('not a domain');
      await page.getByLabel('Organisation name').fill(newcomer.name);
      await page.getByLabel('Your email address').fill(newcomer.adminEmail);
      await page.getByRole('button', { name: 'Email me a verification link' }).click();
      await page.getByText('Domain must be a domain name like contoso.com.').waitFor();
      await inspect(page, stop('new-tenant-error', { formError: true }));
      await page.getByLabel('Domain').fill(newcomer.tenantDomain);
      await page.getByRole('button', { name: 'Email me a verification link' }).click();
      await heading(page, 'Check your email');
      await inspect(page, stop('verification-sent'));

      await page.goto(`${system.baseUrl}/tenants/verify/not-a-real-token`);
      await page.getByText('We do not know this verification link.').waitFor();
      await inspect(page, stop('challenge-unknown'));
    },
  },
  {
    name: 'error pages',
    stops: ['not-found', 'validation-error'],
    async visit({ system }, page, inspect) {
      await page.goto(`${system.baseUrl}/no-such-page`);
      await heading(page, 'Page not found');
      await inspect(page, stop('not-found'));
      // A path parameter whose %-escape does not decode: the request cannot be read.
      await page.goto(`${system.baseUrl}/tenant-admins/confirm/%ZZ`);
      await heading(page, 'That did not work');
      await inspect(page, stop('validation-error'));
    },
  },
];

/** Every stop of the tour, in order. */
export const tourStops = tourChapters.flatMap((chapter) => chapter.stops);

/**
 * The system (with a DNS server of its own, for the domain proof) and Chromium for the describe
 * block this is called in, and a function that runs one chapter of the tour in a fresh browser
 * context: `inspect` is called at each stop; a failure leaves a screenshot under
 * artifacts/screenshots/<run>-<chapter number>/.
 */
export function useCustomerPageTour(name: string) {
  const dns = useTestDnsServer();
  const system = useTestSystem(name, () => ({ env: { DNS_SERVERS: dns.servers.join(',') } }));
  const browser = useChromium();
  return async function runChapter(chapter: Chapter, inspect: Inspect): Promise<string[]> {
    const shots = await screenshotTaker(`${name}-${tourChapters.indexOf(chapter) + 1}`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const visited: string[] = [];
    await runBrowserSteps(
      shots,
      () => page,
      () =>
        chapter.visit({ system, dns }, page, async (at, where) => {
          visited.push(where.name);
          await inspect(at, where);
        }),
      () => context.close(),
    );
    return visited;
  };
}
