import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { clickEmailLink, personBrowser, runBrowserSteps, screenshotTaker, useChromium } from '../support/browser.js';
import { useTestDnsServer } from '../support/dnsServer.js';
import { apiClient } from '../support/http.js';
import {
  customer,
  getPage,
  linkIn,
  mailTo,
  newPartner,
  offer,
  postForm,
  readModel,
  registerTenant,
  stateOf,
  subjects,
  waitForStatus,
  type Customer,
} from '../support/relationshipDriver.js';
import type { TestSystem } from '../support/testSystem.js';
import { useTestSystem } from '../support/useTestSystem.js';

const signInSubject = /sign-in link/;
const adminInvitationSubject = /invited you to administer partner relationships/;

/** Signs `email` in to Partner relationships from `page` by the emailed one-time link; returns the signed-in page. */
async function signIn(system: TestSystem, page: Page, mailClient: Page, to: Customer, email: string): Promise<Page> {
  await page.getByRole('button', { name: 'Email me a sign-in link' }).waitFor();
  await page.getByLabel('Organisation domain').fill(to.tenantDomain);
  await page.getByLabel('Admin email').fill(email);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await page.getByText('a sign-in link is on its way').waitFor();
  const signedIn = await clickEmailLink(mailClient, await mailTo(system, email, signInSubject), 'Sign in');
  // The link opens a confirmation; only its button uses the link (a mail scanner's fetch does not).
  await signedIn.getByRole('button', { name: `Sign in as ${email}` }).click();
  await signedIn.getByRole('heading', { level: 1, name: 'Partner relationships' }).waitFor();
  return signedIn;
}

/** How far the page's content reaches past the viewport's width, in CSS pixels (0: no sideways scrolling). */
// A string: the project's types have no DOM library.
const horizontalOverflow = (page: Page) => page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');

// The tenant directory in a real browser, on the real API, worker, Temporal,
// Postgres, Redis, SMTP and a real DNS server: an invitation authorizes only a
// verified admin of the tenant; anyone else forwards it to the admins or
// proves the domain first; admins manage each other on /tenant-admins.
describe('the tenant directory in Chromium', () => {
  const dns = useTestDnsServer();
  const system = useTestSystem('browser-tenant-directory', () => ({ env: { DNS_SERVERS: dns.servers.join(',') } }));
  const browser = useChromium();

  it('unregistered domain: invitation → Verify → TXT record → verified → back to the request → Yes → Next → active', async () => {
    const shots = await screenshotTaker('tenant-unregistered-domain');
    const partner = await newPartner(system, 'verifier');
    const to = customer('unregistered');
    const { id } = await offer(system, partner, to, { terms: 'We look after your users.' }, { registered: false });

    const { context, problems, mailClient } = await personBrowser(browser);
    let page = mailClient;
    await runBrowserSteps(shots, () => page, async () => {
      page = await clickEmailLink(mailClient, await mailTo(system, to.adminEmail, subjects.invitation), 'Review the request');

      // Nobody can authorize for a domain nobody has proven: no Yes/No, an offer to verify instead.
      await page.getByRole('heading', { level: 1, name: `${partner.name} asks for admin access to ${to.tenantDomain}` }).waitFor();
      expect(await page.getByRole('alert').innerText()).toContain(`${to.tenantDomain} is not registered with us yet`);
      expect(await page.getByRole('radio').count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Next' }).count()).toBe(0);
      expect(await page.getByLabel('Organisation name').inputValue()).toBe(to.name);
      await shots.take(page, 'unregistered-invitation');

      await page.getByRole('button', { name: `Verify ${to.tenantDomain}` }).click();
      await page.getByRole('heading', { level: 1, name: `Verify ${to.tenantDomain}` }).waitFor();
      const challengeUrl = new URL(page.url());
      expect(challengeUrl.pathname).toMatch(/^\/tenants\/verify\/[A-Za-z0-9_-]+$/);
      expect(challengeUrl.searchParams.get('invitation')).toBeTruthy();
      const recordName = (await page.locator('#record-name').innerText()).trim();
      const recordValue = (await page.locator('#record-value').innerText()).trim();
      expect(recordName).toBe(`_partnerflow-challenge.${to.tenantDomain}`);
      expect(recordValue).not.toBe('');
      expect(await page.locator('main').innerText()).toContain(to.adminEmail);
      await shots.take(page, 'txt-record');

      // Verify before publishing: DNS really is asked, and holds nothing yet.
      const firstTry = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/tenants/verify/'));
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
      expect((await firstTry).status()).toBe(422);
      await page.getByRole('alert').getByText('We found no TXT record').waitFor();
      expect(await page.getByRole('alert').innerText()).toContain(recordName);
      // The record to publish is still shown after the failed try, unchanged.
      expect((await page.locator('#record-value').innerText()).trim()).toBe(recordValue);
      await shots.take(page, 'txt-record-missing');

      // The long record value must wrap on a phone, not push the page sideways.
      await page.setViewportSize({ width: 360, height: 740 });
      await shots.take(page, 'txt-record-narrow');
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
      await page.setViewportSize({ width: 1100, height: 800 });

      dns.publish(recordName, recordValue);
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: `${to.tenantDomain} is verified` }).waitFor();
      expect(await page.getByRole('status').innerText()).toContain(`with you (${to.adminEmail}) as its admin`);
      await shots.take(page, 'verified');

      // Back on the request, the same link now authorizes: the contact is the tenant's first admin.
      await page.getByRole('link', { name: "Go back to the partner's request and answer it" }).click();
      await page.getByRole('heading', { level: 1, name: `${partner.name} asks for admin access to ${to.name}` }).waitFor();
      expect(await page.locator('main').innerText()).toContain('We look after your users.');
      await shots.take(page, 'authorization');
      await page.getByRole('radio', { name: /Yes/ }).check();
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('heading', { level: 1, name: `You authorized ${partner.name}` }).waitFor();
      await shots.take(page, 'accepted');

      await waitForStatus(partner, id, 'active');
      const operator = apiClient(system.baseUrl, system.operatorToken);
      const tenant = await operator.get(`/api/v1/admin/tenants/${to.tenantDomain}`);
      expect(tenant.status).toBe(200);
      expect(tenant.json).toMatchObject({ name: to.name, registeredVia: 'dns', admins: [{ email: to.adminEmail, addedVia: 'dns' }] });

      // The one answer that is meant to fail, Verify before the record exists (its response and Chromium's console line about it).
      const challengeAddress = `${challengeUrl.origin}${challengeUrl.pathname}`;
      const expected = [`HTTP 422 for POST ${challengeAddress}`, `console error on ${challengeAddress}: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)`];
      expect(problems.filter((p) => !expected.includes(p))).toEqual([]);
      expect(problems).toContain(expected[0]);
    }, async () => {
      dns.unpublish(`_partnerflow-challenge.${to.tenantDomain}`);
      await context.close();
    });
  });

  it('registered tenant, contact not an admin: the link refuses an answer → forward to the admins → an admin answers Yes → active', async () => {
    const shots = await screenshotTaker('tenant-forward-to-admins');
    const partner = await newPartner(system, 'forwarded');
    const to = customer('registered');
    const boss = `boss@${to.tenantDomain}`;
    const contact: Customer = { ...to, adminEmail: `it@${to.tenantDomain}` };
    await registerTenant(system, to, [boss]);
    const { id, handle } = await offer(system, partner, contact, {}, { registered: false });

    const contactMail = await mailTo(system, contact.adminEmail, subjects.invitation);
    const contactLink = linkIn(contactMail.parsed.html || contactMail.parsed.text || '', '/invitations');

    // The link proves the inbox, not authority: a "Yes" posted from it is refused and changes nothing.
    const refused = await postForm(contactLink, { choice: 'yes' });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('is not one of its admins');
    expect((await stateOf(handle)).status).toBe('invited');
    expect((await readModel(partner, id)).status).toBe('invited');

    const contactBrowser = await personBrowser(browser);
    const bossBrowser = await personBrowser(browser);
    let page = contactBrowser.mailClient;
    await runBrowserSteps(shots, () => page, async () => {
      page = await clickEmailLink(contactBrowser.mailClient, contactMail, 'Review the request');
      await page.getByRole('heading', { level: 1, name: `${partner.name} asks for admin access to ${to.name}` }).waitFor();
      expect(await page.getByRole('alert').innerText()).toContain(`${contact.adminEmail} is not one of its admins`);
      expect(await page.getByRole('radio').count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Next' }).count()).toBe(0);
      // The page never says who the admins are.
      expect(await page.content()).not.toContain(boss);
      await shots.take(page, 'not-an-admin');

      await page.getByRole('button', { name: "Send this request to my organisation's admins" }).click();
      await page.getByRole('heading', { level: 1, name: 'We sent the request to your admins' }).waitFor();
      expect(await page.content()).not.toContain(boss);
      await shots.take(page, 'forwarded');

      // The admin gets a link of its own, saying who forwarded it.
      const forwarded = await mailTo(system, boss, subjects.invitation);
      expect(forwarded.parsed.text).toContain(`${contact.adminEmail} forwarded this request to you because you are an admin of`);
      page = await clickEmailLink(bossBrowser.mailClient, forwarded, 'Review the request');
      await shots.take(bossBrowser.mailClient, 'forwarded-email');

      await page.getByRole('heading', { level: 1, name: `${partner.name} asks for admin access to ${to.name}` }).waitFor();
      await page.getByRole('radio', { name: /Yes/ }).check();
      await shots.take(page, 'admin-says-yes');
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('heading', { level: 1, name: `You authorized ${partner.name}` }).waitFor();
      await shots.take(page, 'accepted');

      await waitForStatus(partner, id, 'active');
      // Answered once, for everyone: the contact's own link now says so.
      const contactAfter = await getPage(contactLink);
      expect(contactAfter.status).toBe(410);
      expect(contactAfter.text).toContain('This invitation was already used');

      expect(contactBrowser.problems).toEqual([]);
      expect(bossBrowser.problems).toEqual([]);
    }, async () => {
      await contactBrowser.context.close();
      await bossBrowser.context.close();
    });
  });

  it('admins page: invite a deputy → Confirm → deputy signs in → removed → signed out; the last admin has no Remove', async () => {
    const shots = await screenshotTaker('tenant-admins-page');
    const to = customer('admins');
    const boss = `boss@${to.tenantDomain}`;
    const deputy = `deputy@${to.tenantDomain}`;
    await registerTenant(system, to, [boss]);
    const operator = apiClient(system.baseUrl, system.operatorToken);
    const adminsNow = async () => {
      const res = await operator.get(`/api/v1/admin/tenants/${to.tenantDomain}`);
      expect(res.status).toBe(200);
      return (res.json.admins as { email: string }[]).map((a) => a.email).sort();
    };

    const bossBrowser = await personBrowser(browser);
    const deputyBrowser = await personBrowser(browser);
    let page = bossBrowser.mailClient;
    await runBrowserSteps(shots, () => page, async () => {
      // The boss signs in from Partner relationships, then opens /tenant-admins (linked from nowhere yet).
      page = await bossBrowser.context.newPage();
      await page.goto(`${system.baseUrl}/partner-relationships`);
      page = await signIn(system, page, bossBrowser.mailClient, to, boss);
      await page.goto(`${system.baseUrl}/tenant-admins`);
      await page.getByRole('heading', { level: 1, name: `Admins of ${to.name}` }).waitFor();
      expect(await page.getByRole('listitem').filter({ hasText: boss }).innerText()).toContain('(you)');
      await shots.take(page, 'admins-alone');

      await page.getByLabel('Email address').fill(deputy);
      await page.getByRole('button', { name: 'Invite admin' }).click();
      await page.getByRole('status').getByText(`We emailed ${deputy} a link`).waitFor();
      await shots.take(page, 'deputy-invited');
      expect(await adminsNow()).toEqual([boss]);

      // The deputy's link opens a page; only its button changes anything, however often it is opened.
      const invitation = await mailTo(system, deputy, adminInvitationSubject);
      expect(invitation.parsed.subject).toContain(boss);
      const confirmPage = await clickEmailLink(deputyBrowser.mailClient, invitation, 'Confirm');
      await shots.take(deputyBrowser.mailClient, 'admin-invitation-email');
      await confirmPage.getByRole('heading', { level: 1, name: `Become an admin of ${to.name}` }).waitFor();
      await confirmPage.reload();
      await confirmPage.getByRole('heading', { level: 1, name: `Become an admin of ${to.name}` }).waitFor();
      expect(await adminsNow()).toEqual([boss]);
      await shots.take(confirmPage, 'confirm');

      await confirmPage.getByRole('button', { name: 'Confirm' }).click();
      await confirmPage.getByRole('heading', { level: 1, name: `You are an admin of ${to.name}` }).waitFor();
      await shots.take(confirmPage, 'confirmed');
      expect(await adminsNow()).toEqual([boss, deputy].sort());
      const usedAgain = await getPage(confirmPage.url());
      expect(usedAgain.status).toBe(410);
      expect(usedAgain.text).toContain('This invitation was already used.');

      // The deputy signs in, in a browser of its own.
      await confirmPage.getByRole('link', { name: 'Sign in to Partner relationships' }).click();
      const deputyPage = await signIn(system, confirmPage, deputyBrowser.mailClient, to, deputy);
      await shots.take(deputyPage, 'deputy-signed-in');

      // The boss sees both, each removable now, and removes the deputy. (Not reload: that page answered a POST.)
      await page.goto(`${system.baseUrl}/tenant-admins`);
      await page.getByRole('button', { name: `Remove ${deputy}` }).waitFor();
      expect(await page.getByRole('button', { name: `Remove ${boss}` }).count()).toBe(1);
      await shots.take(page, 'two-admins');
      await page.getByRole('button', { name: `Remove ${deputy}` }).click();
      await page.getByRole('status').getByText(`${deputy} is no longer an admin.`).waitFor();
      expect(await adminsNow()).toEqual([boss]);
      await shots.take(page, 'deputy-removed');

      // The deputy's session ends with its admin rights: the next page load asks to sign in.
      await deputyPage.reload();
      await deputyPage.getByRole('button', { name: 'Email me a sign-in link' }).waitFor();
      expect(await deputyPage.getByRole('table').count()).toBe(0);
      await shots.take(deputyPage, 'deputy-signed-out');

      // Alone again, the boss has no Remove button, and the page says why.
      expect(await page.getByRole('button', { name: /^Remove/ }).count()).toBe(0);
      await page.getByText('You are the only admin; add another before you can remove yourself.').waitFor();
      // A removal posted anyway (a stale tab, a crafted form) is refused and changes nothing.
      const csrf = await page.locator('input[name="csrf"]').first().inputValue();
      const selfRemoval = await page.request.post(`${system.baseUrl}/tenant-admins/remove`, { form: { csrf, email: boss } });
      expect(selfRemoval.status()).toBe(409);
      expect(await selfRemoval.text()).toContain('The last admin of a tenant cannot be removed');
      expect(await adminsNow()).toEqual([boss]);
      await shots.take(page, 'last-admin');

      expect(bossBrowser.problems).toEqual([]);
      expect(deputyBrowser.problems).toEqual([]);
    }, async () => {
      await bossBrowser.context.close();
      await deputyBrowser.context.close();
    });
  });
});
