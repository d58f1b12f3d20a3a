import request from 'supertest';
import { expect } from 'vitest';
import type { TestSystem } from '../support/testSystem.js';
import { waitFor } from '../support/waitFor.js';
import { field, idOf, uniqueDomain } from './apiHarness.js';

// Drives the customer side over real HTTP with supertest: partners and offers
// through the API, links from the emails the SMTP catcher received, and a
// cookie-keeping agent per signed-in customer.

export const auth = (key: string) => ({ Authorization: `Bearer ${key}` });
export const csrfIn = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

/** The path of the first link to `path` in an email (HTML part preferred). */
function linkPath(text: string, path: string): string {
  const match = new RegExp(`https?://[^\\s"<>]+(${path}/[A-Za-z0-9_-]+)`).exec(text);
  if (!match?.[1]) throw new Error(`no ${path} link in: ${text.slice(0, 300)}`);
  return match[1];
}

export function customerFlow(system: TestSystem) {
  const api = request(system.baseUrl);

  async function newPartner(name: string) {
    const res = await api.post('/api/v1/admin/partners').set(auth(system.operatorToken)).send({ name, contactEmail: 'ops@partner.example' });
    expect(res.status).toBe(201);
    return { id: idOf(res), name, key: String(field(res, 'apiKey')) };
  }

  /** The operator registers the tenant, with `admin@<domain>` (or `admins`) as its verified admins. */
  async function register(tenantDomain: string, admins = [`admin@${tenantDomain}`]) {
    const res = await api.put(`/api/v1/admin/tenants/${tenantDomain}`).set(auth(system.operatorToken)).send({ name: 'Contoso', admins });
    expect([200, 201], res.text).toContain(res.status);
  }

  /** An offer to `admin@<domain>`; the tenant is registered first (with that admin) unless `registered: false`. */
  async function offer(partner: { key: string }, tenantDomain = uniqueDomain('tenant'), extra: Record<string, unknown> = {}, { registered = true } = {}) {
    if (registered) await register(tenantDomain);
    const res = await api
      .post('/api/v1/relationships')
      .set(auth(partner.key))
      .send({ customer: { tenantDomain, adminEmail: `admin@${tenantDomain}`, name: 'Contoso' }, roles: ['user-administrator', 'license-administrator'], ...extra });
    expect(res.status).toBe(201);
    return { id: idOf(res), tenantDomain };
  }

  /** The path of the newest invitation link emailed to the tenant's admin (waits for the `count`th). */
  async function invitationPath(tenantDomain: string, count = 1): Promise<string> {
    const mails = await waitFor(() => {
      const found = system.smtp.messages.filter((m) => m.to.includes(`admin@${tenantDomain}`) && (m.parsed.html || '').includes('/invitations/'));
      return found.length >= count ? found : undefined;
    }, { what: `${count} invitation(s) to ${tenantDomain}` });
    return linkPath(mails[count - 1]?.parsed.html || '', '/invitations');
  }

  async function statusOf(partner: { key: string }, id: string): Promise<string> {
    return String(field(await api.get(`/api/v1/relationships/${id}`).set(auth(partner.key)), 'status'));
  }

  const waitForStatus = (partner: { key: string }, id: string, status: string) =>
    waitFor(async () => (await statusOf(partner, id)) === status, { what: `${id} ${status}` });

  /** Signs in as the tenant's admin by the emailed one-time link; returns an agent that keeps the cookie. */
  async function signIn(tenantDomain: string) {
    const agent = request.agent(system.baseUrl);
    const signInMails = () => system.smtp.messages.filter((m) => m.to.includes(`admin@${tenantDomain}`) && /sign-in/i.test(m.parsed.subject ?? ''));
    const before = signInMails().length;
    const asked = await agent.post('/sign-in').type('form').send({ tenantDomain, email: `admin@${tenantDomain}` });
    expect(asked.status).toBe(200);
    const mails = await waitFor(() => (signInMails().length > before ? signInMails() : undefined), { what: 'the sign-in email' });
    const path = linkPath(mails[before]?.parsed.text ?? '', '/sign-in');
    // The link opens a page with a button; only pressing it (a POST) signs in.
    const opened = await agent.get(path);
    expect(opened.status).toBe(200);
    expect(opened.text).toContain(`Sign in as admin@${tenantDomain}`);
    const signedIn = await agent.post(path).type('form').send({});
    expect(signedIn.status).toBe(303);
    return { agent, path, setCookie: signedIn.headers['set-cookie'] as unknown as string[] };
  }

  return { api, newPartner, register, offer, invitationPath, statusOf, waitForStatus, signIn };
}
