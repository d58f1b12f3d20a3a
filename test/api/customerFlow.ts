import request from 'supertest';
import { expect } from 'vitest';
import { lazily } from '../support/suiteResource.js';
import type { TestSystem } from '../support/testSystem.js';
import { waitFor } from '../support/waitFor.js';
import { enforcerCreatedSchema } from '../../src/operator/enforcerSchemas.js';
import { expectShape, field, idOf, uniqueDomain } from './apiHarness.js';

// Drives the customer side over real HTTP with supertest: partners and offers
// through the API, links from the emails the SMTP catcher received, and a
// cookie-keeping agent per signed-in customer.

export const auth = (key: string) => ({ Authorization: `Bearer ${key}` });
export { csrfIn } from '../support/relationshipDriver.js';

/** The path of the first link to `path` in an email (HTML part preferred). */
function linkPath(text: string, path: string): string {
  const match = new RegExp(`https?://[^\\s"<>]+(${path}/[A-Za-z0-9_-]+)`).exec(text);
  if (!match?.[1]) throw new Error(`no ${path} link in: ${text.slice(0, 300)}`);
  return match[1];
}

/** A supertest client of the system's HTTP server, usable in its describe block's tests. */
export const supertestOf = (system: TestSystem) => lazily('the test system’s supertest client', () => request(system.baseUrl));

/** A partner the operator registers through the API (201 expected); its id, name and API key. */
export async function createPartner(api: ReturnType<typeof request>, operatorToken: string, name: string, contactEmail: string) {
  const res = await api.post('/api/v1/admin/partners').set(auth(operatorToken)).send({ name, contactEmail });
  expect(res.status).toBe(201);
  return { id: idOf(res), name, key: String(field(res, 'apiKey')) };
}

/** Creates an enforcer as the operator; its id, name, tenants and key. */
export async function createEnforcer(api: ReturnType<typeof request>, operatorToken: string, body: { name: string; tenants?: string[] }) {
  const res = await api.post('/api/v1/admin/enforcers').set(auth(operatorToken)).send(body);
  expect(res.status, res.text).toBe(201);
  const created = expectShape(enforcerCreatedSchema, res.body);
  return { ...created, key: created.apiKey ?? '' };
}

/** The customer side of `system`; may be called in a describe block, before the system has started. */
export function customerFlow(system: TestSystem) {
  const api = supertestOf(system);

  const newPartner = (name: string) => createPartner(api, system.operatorToken, name, 'ops@partner.example');

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

  /** An offer (see `offer`) the tenant's admin accepts by its emailed link (Yes → Next); resolves once it is active. */
  async function acceptedOffer(partner: { key: string }, tenantDomain?: string, extra: Record<string, unknown> = {}) {
    const offered = await offer(partner, tenantDomain, extra);
    await api.post(await invitationPath(offered.tenantDomain)).type('form').send({ choice: 'yes' });
    await waitForStatus(partner, offered.id, 'active');
    return offered;
  }

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

  return { api, newPartner, register, offer, acceptedOffer, invitationPath, statusOf, waitForStatus, signIn };
}
