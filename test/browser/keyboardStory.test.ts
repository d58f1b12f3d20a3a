import { describe, expect, it } from 'vitest';
import { expectFocusOn, personBrowser, pressUntilFocused, runBrowserSteps, screenshotTaker, useChromium } from '../support/browser.js';
import { access, customer, invitationLink, linkIn, mailTo, newPartner, offer, subjects, waitForStatus } from '../support/relationshipDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';

const signInSubject = /sign-in link/;
const trialOffer = { offer: 'Business Premium', seats: 25, days: 30 };

// The customer's whole story again (customerStory.test.ts), with the keyboard alone: Tab and
// Shift+Tab reach the controls, arrow keys move in the radio group, Space and Enter press. Nothing
// on a page is clicked, filled or checked; only the emailed links are opened by address, as a mail
// client does. Before every press the test checks which control has focus (its role and name) and
// that it shows a focus indicator, so each control is reachable, in a sensible order, and visibly.
describe('the customer story by keyboard in Chromium', () => {
  const system = useTestSystem('browser-keyboard-story');
  const browser = useChromium();

  it('email link → Tab to Yes → Next → Start the trial → Partner relationships → sign in → Delete → Yes → removed', async () => {
    const shots = await screenshotTaker('keyboard-story');
    const partner = await newPartner(system, 'northwind');
    // offer() registers the tenant first, with the customer's address as its verified admin.
    const to = customer('tailspin');
    const { id } = await offer(system, partner, to, { terms: 'We manage your users and licenses.', trial: trialOffer });

    const { context, problems, mailClient } = await personBrowser(browser);
    let page = mailClient;
    await runBrowserSteps(shots, () => page, async () => {
      page = await context.newPage();
      const keys = page.keyboard;
      const heading = (name: string) => page.getByRole('heading', { level: 1, name }).waitFor();

      // The invitation: the mail client opens its link.
      await page.goto(await invitationLink(system, to));
      await heading(`${partner.name} asks for admin access to ${to.name}`);

      // Tab into the radio group: with nothing chosen, focus lands on its first radio, Yes, unchecked.
      const yes = page.getByRole('radio', { name: `Yes, authorize ${partner.name}`, exact: true });
      const no = page.getByRole('radio', { name: 'No', exact: true });
      await pressUntilFocused(page, yes, { maxPresses: 3 });
      expect(await yes.isChecked()).toBe(false);
      await shots.take(page, 'yes-focused');
      // Arrow keys move within the group and choose as they go.
      await keys.press('ArrowDown');
      await expectFocusOn(page, no);
      expect(await no.isChecked()).toBe(true);
      await keys.press('ArrowUp');
      await expectFocusOn(page, yes);
      expect(await yes.isChecked()).toBe(true);
      expect(await no.isChecked()).toBe(false);
      await shots.take(page, 'yes-chosen');

      // On through the optional reason to Next, one Tab each, and back and forth once with Shift+Tab.
      const reason = page.getByRole('textbox', { name: 'Reason if you say No (optional)' });
      const next = page.getByRole('button', { name: 'Next' });
      await keys.press('Tab');
      await expectFocusOn(page, reason);
      await keys.press('Tab');
      await expectFocusOn(page, next);
      await keys.press('Shift+Tab');
      await expectFocusOn(page, reason);
      await keys.press('Tab');
      await expectFocusOn(page, next);
      await shots.take(page, 'next-focused');
      await keys.press('Enter');

      // The trial step: its first control starts the trial; Space presses it.
      await heading('One more step: your trial');
      const startTrial = page.getByRole('button', { name: 'Start the trial' });
      await pressUntilFocused(page, startTrial, { maxPresses: 1 });
      await keys.press('Tab');
      await expectFocusOn(page, page.getByRole('button', { name: 'Continue without the trial' }));
      await keys.press('Shift+Tab');
      await expectFocusOn(page, startTrial);
      await shots.take(page, 'start-trial-focused');
      await keys.press('Space');

      await heading(`You authorized ${partner.name}`);
      expect(await page.locator('main').innerText()).toContain(`creating your ${trialOffer.offer} trial`);
      const active = await waitForStatus(partner, id, 'active');
      expect(active.trial?.status).toBe('active');
      expect(await access(partner, to)).toEqual({ allowed: true, relationshipId: id });

      // The accepted page links to Partner relationships.
      await pressUntilFocused(page, page.getByRole('link', { name: 'Partner relationships' }), { maxPresses: 2 });
      await shots.take(page, 'accepted-link-focused');
      await keys.press('Enter');

      // Sign in: the domain, the address, then the button, one Tab apart; typing goes to the focused field.
      const sendLink = page.getByRole('button', { name: 'Email me a sign-in link' });
      await sendLink.waitFor();
      const domain = page.getByRole('textbox', { name: 'Organisation domain' });
      const email = page.getByRole('textbox', { name: 'Admin email' });
      await pressUntilFocused(page, domain, { maxPresses: 1 });
      await keys.type(to.tenantDomain);
      await keys.press('Tab');
      await expectFocusOn(page, email);
      await keys.type(to.adminEmail);
      await keys.press('Shift+Tab');
      await expectFocusOn(page, domain);
      expect(await domain.inputValue()).toBe(to.tenantDomain);
      await keys.press('Tab');
      await expectFocusOn(page, email);
      expect(await email.inputValue()).toBe(to.adminEmail);
      await keys.press('Tab');
      await expectFocusOn(page, sendLink);
      await shots.take(page, 'sign-in-focused');
      await keys.press('Enter');
      await page.getByRole('status').getByText('a sign-in link is on its way').waitFor();

      // The emailed link opens a confirmation; its one button signs in.
      const signInMail = await mailTo(system, to.adminEmail, signInSubject);
      await page.goto(linkIn(signInMail.parsed.html || signInMail.parsed.text || '', '/sign-in'));
      await heading('Sign in');
      await pressUntilFocused(page, page.getByRole('button', { name: `Sign in as ${to.adminEmail} to ${to.name}` }), { maxPresses: 1 });
      await shots.take(page, 'sign-in-confirm-focused');
      await keys.press('Enter');

      // The list: Tab past the links above the table to the partner's Delete button.
      await heading('Partner relationships');
      const row = page.getByRole('row', { name: new RegExp(partner.name) });
      expect(await row.innerText()).toContain('active');
      const deleteButton = row.getByRole('button', { name: `Delete ${partner.name}` });
      const stops = await pressUntilFocused(page, deleteButton, { maxPresses: 6 });
      // The filters come before the table, in their visual order.
      expect(stops.filter((s) => /^link "(active|ended|all)"/.test(s))).toEqual(['link "active"', 'link "ended"', 'link "all"']);
      await shots.take(page, 'delete-focused');
      await keys.press('Enter');

      // Are you sure? Yes comes first, then the way back; Shift+Tab returns to Yes.
      await heading('Are you sure?');
      const confirmYes = page.getByRole('button', { name: 'Yes', exact: true });
      await pressUntilFocused(page, confirmYes, { maxPresses: 1 });
      await keys.press('Tab');
      await expectFocusOn(page, page.getByRole('link', { name: 'No, keep this partner' }));
      await keys.press('Shift+Tab');
      await expectFocusOn(page, confirmYes);
      await shots.take(page, 'confirm-yes-focused');
      await keys.press('Enter');

      await heading(`${partner.name} was removed`);
      await shots.take(page, 'removed');
      // Asked right after the confirmation, not polled (as customerStory does).
      expect(await access(partner, to)).toEqual({ allowed: false });

      // And back to the list, now without the partner.
      await pressUntilFocused(page, page.getByRole('link', { name: 'Back to Partner relationships' }), { maxPresses: 1 });
      await keys.press('Enter');
      await page.getByText("We didn't find anything to show here.").waitFor();
      expect(await page.getByRole('row', { name: new RegExp(partner.name) }).count()).toBe(0);
      await shots.take(page, 'active-list-empty');
      await waitForStatus(partner, id, 'terminated');

      // The trial started by Space was really created.
      expect((await mailTo(system, to.adminEmail, subjects.trialReady)).parsed.subject).toContain(trialOffer.offer);
      expect(problems).toEqual([]);
    }, () => context.close());
  });
});
