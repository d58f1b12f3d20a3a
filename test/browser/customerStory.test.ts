import { describe, expect, it } from 'vitest';
import { clickEmailLink, personBrowser, runBrowserSteps, screenshotTaker, useChromium } from '../support/browser.js';
import { access, customer, mailTo, newPartner, offer, subjects, waitForStatus } from '../support/relationshipDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';

const signInSubject = /sign-in link/;
const trialOffer = { offer: 'Business Premium', seats: 25, days: 30 };

// The customer's whole story in a real browser, on the real API, worker,
// Temporal, Postgres, Redis and SMTP. It runs once with JavaScript and once
// without: the pages are server-rendered forms and must work either way.
describe('the customer story in Chromium', () => {
  const system = useTestSystem('browser-story');
  const browser = useChromium();

  it.each([
    { javaScriptEnabled: true, run: 'customer-story' },
    { javaScriptEnabled: false, run: 'customer-story-no-js' },
  ])('email link → Yes → Next → trial → Partner relationships → Delete → Yes → empty list ($run)', async ({ javaScriptEnabled, run }) => {
    const shots = await screenshotTaker(run);
    const partner = await newPartner(system, 'fabrikam');
    const to = customer('contoso');
    const { id } = await offer(system, partner, to, {
      terms: 'We manage your users and licenses during business hours.',
      trial: trialOffer,
    });

    const { context, problems, mailClient } = await personBrowser(browser, { javaScriptEnabled });
    let page = mailClient;
    await runBrowserSteps(shots, () => page, async () => {
      // The invitation arrives; the customer clicks its button.
      const invitation = await mailTo(system, to.adminEmail, subjects.invitation);
      page = await clickEmailLink(mailClient, invitation, 'Review the request');
      await shots.take(mailClient, 'invitation-email');

      await page.getByRole('heading', { level: 1, name: `${partner.name} asks for admin access to ${to.name}` }).waitFor();
      const authorization = await page.locator('main').innerText();
      expect(authorization).toContain('User administrator');
      expect(authorization).toContain('License administrator');
      expect(authorization).toContain('We manage your users and licenses during business hours.');
      expect(authorization).toContain(trialOffer.offer);
      await shots.take(page, 'authorization');

      await page.getByRole('radio', { name: /Yes/ }).check();
      await shots.take(page, 'yes-chosen');
      await page.getByRole('button', { name: 'Next' }).click();

      // With a trial offered, Next leads to the trial step; its button authorizes with the trial.
      await page.getByRole('heading', { level: 1, name: 'One more step: your trial' }).waitFor();
      expect(await page.locator('main').innerText()).toContain(`${trialOffer.offer}, ${trialOffer.seats} seats for ${trialOffer.days} days`);
      await shots.take(page, 'trial-step');
      await page.getByRole('button', { name: 'Start the trial' }).click();

      await page.getByRole('heading', { level: 1, name: `You authorized ${partner.name}` }).waitFor();
      expect(await page.locator('main').innerText()).toContain(`creating your ${trialOffer.offer} trial`);
      await shots.take(page, 'done');
      const trialReady = await mailTo(system, to.adminEmail, subjects.trialReady);
      expect(trialReady.parsed.subject).toContain(trialOffer.offer);
      const active = await waitForStatus(partner, id, 'active');
      expect(active.trial?.status).toBe('active');

      // Partner relationships, after signing in by the emailed one-time link.
      await page.getByRole('link', { name: 'Partner relationships' }).click();
      await page.getByRole('button', { name: 'Email me a sign-in link' }).waitFor();
      await page.getByLabel('Organisation domain').fill(to.tenantDomain);
      await page.getByLabel('Admin email').fill(to.adminEmail);
      await shots.take(page, 'sign-in');
      await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
      await page.getByText('a sign-in link is on its way').waitFor();
      await shots.take(page, 'sign-in-sent');

      page = await clickEmailLink(mailClient, await mailTo(system, to.adminEmail, signInSubject), 'Sign in');
      await shots.take(mailClient, 'sign-in-email');
      // The link opens a confirmation; only its button uses the link (a mail scanner's fetch does not).
      const confirm = page.getByRole('button', { name: `Sign in as ${to.adminEmail} to ` });
      await confirm.waitFor();
      await shots.take(page, 'sign-in-confirm');
      await confirm.click();

      await page.getByRole('heading', { level: 1, name: 'Partner relationships' }).waitFor();
      const row = page.getByRole('row', { name: new RegExp(partner.name) });
      const rowText = await row.innerText();
      expect(rowText).toContain('active');
      expect(rowText).toContain('User administrator');
      expect(rowText).toContain('License administrator');
      await shots.take(page, 'partner-relationships');
      expect(await access(partner, to)).toEqual({ allowed: true, relationshipId: id });

      // Delete → "Are you sure?" → Yes → confirmation.
      await row.getByRole('button', { name: `Delete ${partner.name}` }).click();
      await page.getByRole('heading', { level: 1, name: 'Are you sure?' }).waitFor();
      await shots.take(page, 'are-you-sure');
      await page.getByRole('button', { name: 'Yes' }).click();
      await page.getByRole('heading', { level: 1, name: `${partner.name} was removed` }).waitFor();
      // The issue asks for "no" at once: asked right after the confirmation, not polled.
      expect(await access(partner, to)).toEqual({ allowed: false });
      await shots.take(page, 'removed');

      await page.getByRole('link', { name: 'Back to Partner relationships' }).click();
      await page.getByText("We didn't find anything to show here.").waitFor();
      expect(await page.getByRole('link', { name: 'active', exact: true }).getAttribute('aria-current')).toBe('page');
      expect(await page.getByRole('row', { name: new RegExp(partner.name) }).count()).toBe(0);
      await shots.take(page, 'active-list-empty');

      await page.getByRole('link', { name: 'ended', exact: true }).click();
      await page.getByRole('row', { name: new RegExp(`${partner.name}.*terminated`) }).waitFor();
      await shots.take(page, 'ended-list');
      await waitForStatus(partner, id, 'terminated');

      expect(problems).toEqual([]);
    }, () => context.close());
  });
});
