import { expect } from 'vitest';
import { getPage, postForm } from './http.js';
import type { CaughtMail } from './smtpCatcher.js';
import type { TestSystem } from './testSystem.js';

// Drives the tenant directory's customer pages over real HTTP (sign-in, the
// admins page, self-service verification) and reads the links the emails carry.

export const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

/** The first absolute link to `path/<token>` in an email (HTML part preferred). */
export function linkInMail(mail: CaughtMail, path: string): string {
  const text = mail.parsed.html || mail.parsed.text || '';
  const match = new RegExp(`https?://[^\\s"<>]+${path}/[A-Za-z0-9_-]+`).exec(text);
  if (!match) throw new Error(`no ${path} link in: ${text.slice(0, 400)}`);
  return match[0];
}

export function mailsTo(system: TestSystem, address: string, subject: RegExp): CaughtMail[] {
  return system.smtp.messages.filter((m) => m.to.includes(address) && subject.test(m.parsed.subject ?? ''));
}

export const mailSubjects = {
  signIn: /sign-in link/i,
  invitation: /asks for admin access/,
  domainVerification: /^Verify .* for partner relationships$/,
  adminInvitation: /invited you to administer partner relationships/,
  removed: /removed .* as a partner/,
};

/** Asks for a sign-in link; resolves once the route answered (the link, if any, is sent after that: wait for the mail). */
export async function askSignIn(system: TestSystem, tenantDomain: string, email: string) {
  const res = await postForm(`${system.baseUrl}/sign-in`, { tenantDomain, email });
  expect(res.status).toBe(200);
  return res;
}

/** Signs in as a verified admin by the emailed link; returns the cookie jar of that browser. */
export async function signIn(system: TestSystem, tenantDomain: string, email: string) {
  const before = mailsTo(system, email, mailSubjects.signIn).length;
  await askSignIn(system, tenantDomain, email);
  const mail = await system.smtp.waitForMail(
    (m) => m.to.includes(email) && mailSubjects.signIn.test(m.parsed.subject ?? '') && mailsTo(system, email, mailSubjects.signIn).indexOf(m) >= before,
    `a sign-in email to ${email}`,
  );
  const jar = new Map<string, string>();
  const link = linkInMail(mail, '/sign-in');
  // The link opens a page with a button; only pressing it (a POST) uses the link.
  expect((await getPage(link, jar)).status).toBe(200);
  const used = await postForm(link, {}, jar);
  expect(used.status).toBe(303);
  return jar;
}

/** The admins page as the jar's session sees it, with its CSRF token. */
export async function adminsPage(system: TestSystem, jar: Map<string, string>) {
  const page = await getPage(`${system.baseUrl}/tenant-admins`, jar);
  return { ...page, csrf: csrfOf(page.text) };
}

/** Whether the jar's session still lists partners (true) or gets the sign-in form (false). */
export async function stillSignedIn(system: TestSystem, jar: Map<string, string>): Promise<boolean> {
  const page = await getPage(`${system.baseUrl}/partner-relationships`, jar);
  expect(page.status).toBe(200);
  return !page.text.includes('Email me a sign-in link');
}
