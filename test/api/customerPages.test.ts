import { beforeAll, describe, expect, it } from 'vitest';
import { useTestSystem } from '../support/useTestSystem.js';
import { waitFor } from '../support/waitFor.js';
import { relationshipSchema } from '../../src/apiDocs/responseSchemas.js';
import { expectShape, uniqueDomain } from './apiHarness.js';
import { auth, csrfIn, customerFlow } from './customerFlow.js';

// The customer's pages over real HTTP: the invitation link and its answers,
// the trial step, the link problems, sign-in, the list and its filters, and
// Delete with its confirmation.

const trial = { offer: 'Business Premium', seats: 25, days: 30 };

describe('customer pages', () => {
  const system = useTestSystem('customer-pages');
  const flow = customerFlow(system);
  let partner: { id: string; name: string; key: string };

  beforeAll(async () => {
    partner = await flow.newPartner('Fabrikam IT');
  });

  it('the authorization page shows partner, terms, roles in plain words, duration and the trial, with Yes / No and Next', async () => {
    const { tenantDomain } = await flow.offer(partner, undefined, { terms: 'Business hours only.', duration: '30d', trial });
    const page = await flow.api.get(await flow.invitationPath(tenantDomain));
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const html = page.text;
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('Fabrikam IT asks for admin access to Contoso');
    expect(html).toContain('ops@partner.example');
    expect(html).toContain('Business hours only.');
    expect(html).toContain('<strong>User administrator</strong>: Create and edit users and groups');
    expect(html).toContain('<strong>License administrator</strong>');
    expect(html).toContain('30 days');
    expect(html).toContain('Business Premium, 25 seats for 30 days');
    expect(html).toMatch(/<label><input type="radio" name="choice" value="yes" required> Yes, authorize Fabrikam IT<\/label>/);
    expect(html).toMatch(/<label><input type="radio" name="choice" value="no"> No<\/label>/);
    expect(html).toContain('<legend>Do you authorize Fabrikam IT?</legend>');
    expect(html).toContain('<button type="submit">Next</button>');
    expect(html).not.toContain('<script');
  });

  it('Next without a choice shows the page again with the error, and changes nothing', async () => {
    const { id, tenantDomain } = await flow.offer(partner);
    const path = await flow.invitationPath(tenantDomain);
    const res = await flow.api.post(path).type('form').send({});
    expect(res.status).toBe(400);
    expect(res.text).toContain('role="alert"');
    expect(res.text).toContain('Choose Yes or No');
    expect(await flow.statusOf(partner, id)).toBe('invited');
    expect((await flow.api.get(path)).status).toBe(200);
  });

  it('Yes → Next with a trial offered → the trial step (nothing changed yet) → Start the trial → done; the trial is created', async () => {
    const { id, tenantDomain } = await flow.offer(partner, undefined, { trial });
    const path = await flow.invitationPath(tenantDomain);
    const step = await flow.api.post(path).type('form').send({ choice: 'yes' });
    expect(step.status).toBe(200);
    expect(step.text).toContain('One more step: your trial');
    expect(step.text).toContain('Business Premium, 25 seats for 30 days');
    expect(step.text).toContain(`<form method="post" action="${path}">`);
    expect(step.text).toContain('<button type="submit" name="trial" value="start">Start the trial</button>');
    expect(step.text).toContain('name="trial" value="skip"');
    // The trial step is part of answering: the link still works and nothing is accepted yet.
    expect(await flow.statusOf(partner, id)).toBe('invited');
    expect((await flow.api.get(path)).status).toBe(200);

    const done = await flow.api.post(path).type('form').send({ choice: 'yes', trial: 'start' });
    expect(done.status).toBe(200);
    expect(done.text).toContain('You authorized Fabrikam IT');
    expect(done.text).toContain('We are creating your Business Premium trial');
    const active = await waitFor(async () => {
      const rel = expectShape(relationshipSchema, (await flow.api.get(`/api/v1/relationships/${id}`).set(auth(partner.key))).body);
      return rel.status === 'active' ? rel : undefined;
    }, { what: 'active' });
    expect(active.trial).toMatchObject({ offer: 'Business Premium', status: 'active' });
    // The link is used now: a second answer changes nothing.
    const again = await flow.api.post(path).type('form').send({ choice: 'no' });
    expect(again.status).toBe(410);
    expect(again.text).toContain('This invitation was already used');
    expect(again.text).toContain('Nothing was changed.');
    expect(await flow.statusOf(partner, id)).toBe('active');
  });

  it('the trial step can be skipped: authorized, no trial', async () => {
    const { id, tenantDomain } = await flow.offer(partner, undefined, { trial });
    const done = await flow.api.post(await flow.invitationPath(tenantDomain)).type('form').send({ choice: 'yes', trial: 'skip' });
    expect(done.status).toBe(200);
    expect(done.text).toContain('You authorized Fabrikam IT');
    expect(done.text).not.toContain('trial');
    await flow.waitForStatus(partner, id, 'active');
    expect(await system.db.trialSubscription.count({ where: { relationshipId: id } })).toBe(0);
  });

  it('without a trial offered, Yes → Next is done at once', async () => {
    const { id, tenantDomain } = await flow.offer(partner);
    const done = await flow.api.post(await flow.invitationPath(tenantDomain)).type('form').send({ choice: 'yes' });
    expect(done.text).toContain('You authorized Fabrikam IT');
    await flow.waitForStatus(partner, id, 'active');
  });

  it('No → Next declines with the reason', async () => {
    const { id, tenantDomain } = await flow.offer(partner);
    const path = await flow.invitationPath(tenantDomain);
    const done = await flow.api.post(path).type('form').send({ choice: 'no', reason: 'We have an IT team' });
    expect(done.status).toBe(200);
    expect(done.text).toContain("You declined Fabrikam IT's request");
    await flow.waitForStatus(partner, id, 'declined');
    const rel = await flow.api.get(`/api/v1/relationships/${id}`).set(auth(partner.key));
    expect(expectShape(relationshipSchema, rel.body).transitions.at(-1)).toMatchObject({ to: 'declined', reason: 'We have an IT team' });
    const used = await flow.api.get(path);
    expect(used.status).toBe(410);
    expect(used.text).toContain('This invitation was already used');
  });

  it('an unknown link says so and changes nothing', async () => {
    const res = await flow.api.get('/invitations/not-a-real-token');
    expect(res.status).toBe(404);
    expect(res.text).toContain('This link is not valid');
    expect(res.text).toContain('Nothing was changed.');
    const post = await flow.api.post('/invitations/not-a-real-token').type('form').send({ choice: 'yes' });
    expect(post.status).toBe(404);
  });

  it('an expired link says so and changes nothing', async () => {
    const { id, tenantDomain } = await flow.offer(partner, undefined, { invitationTtl: '2s' });
    const path = await flow.invitationPath(tenantDomain);
    await flow.waitForStatus(partner, id, 'invitationExpired');
    const page = await flow.api.get(path);
    expect(page.status).toBe(410);
    expect(page.text).toContain('This invitation has expired');
    const post = await flow.api.post(path).type('form').send({ choice: 'yes' });
    expect(post.status).toBe(410);
    expect(post.text).toContain('This invitation has expired');
    expect(await flow.statusOf(partner, id)).toBe('invitationExpired');
  });

  it('a link replaced by a resend says so; the new one works', async () => {
    const { id, tenantDomain } = await flow.offer(partner);
    const first = await flow.invitationPath(tenantDomain);
    expect((await flow.api.post(`/api/v1/relationships/${id}/resend`).set(auth(partner.key)).send({})).status).toBe(200);
    const second = await flow.invitationPath(tenantDomain, 2);
    await waitFor(async () => (await flow.api.get(first)).status === 410, { what: 'the first link revoked' });
    const old = await flow.api.post(first).type('form').send({ choice: 'yes' });
    expect(old.status).toBe(410);
    expect(old.text).toContain('This link was replaced');
    expect(await flow.statusOf(partner, id)).toBe('invited');
    expect((await flow.api.get(second)).status).toBe(200);
  });

  it('oversized and malformed forms get a readable page', async () => {
    const { tenantDomain } = await flow.offer(partner);
    const path = await flow.invitationPath(tenantDomain);
    const big = await flow.api.post(path).type('form').send(`choice=no&reason=${'x'.repeat(20_000)}`);
    expect(big.status).toBe(413);
    expect(big.text).toContain('larger than allowed');
    expect(big.text).not.toMatch(/\bat .+:\d+:\d+|PayloadTooLargeError/);
  });

  describe('sign-in and Partner relationships', () => {
    it('without a session the list is the sign-in form; an unknown address gets the same answer and no link', async () => {
      const form = await flow.api.get('/partner-relationships');
      expect(form.status).toBe(200);
      expect(form.text).toContain('Email me a sign-in link');
      const domain = uniqueDomain('nobody');
      const res = await flow.api.post('/sign-in').type('form').send({ tenantDomain: domain, email: `admin@${domain}` });
      expect(res.status).toBe(200);
      expect(res.text).toContain('a sign-in link is on its way');
      expect(await system.db.signInToken.count({ where: { tenantDomain: domain } })).toBe(0);
      expect((await flow.api.post('/sign-in').type('form').send({ tenantDomain: domain, email: 'not-an-email' })).status).toBe(400);
    });

    it('a sign-in link works once; the session cookie is httpOnly and SameSite', async () => {
      const { tenantDomain } = await flow.offer(partner);
      const { path, setCookie } = await flow.signIn(tenantDomain);
      const cookie = setCookie.find((c) => c.startsWith('pf_session='));
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Lax/);
      expect(cookie).toMatch(/Path=\//);
      const again = await flow.api.post(path).type('form').send({});
      expect(again.status).toBe(410);
      expect(again.text).toContain('expired or was already used');
      expect((await flow.api.get(path)).status).toBe(410);
      expect((await flow.api.get('/sign-in/unknown-token')).status).toBe(410);
    });

    it('with nothing to show the list says exactly so', async () => {
      const { tenantDomain } = await flow.offer(partner);
      const { agent } = await flow.signIn(tenantDomain);
      // An invitation not yet answered is not a partner relationship yet.
      for (const filter of ['active', 'ended', 'all']) {
        const page = await agent.get(`/partner-relationships?filter=${filter}`);
        expect(page.text).toContain("We didn't find anything to show here.");
      }
    });

    it('lists partners with status, roles, since and ends; filters active / ended / all', async () => {
      const tenantDomain = uniqueDomain('list');
      const other = await flow.newPartner('Northwind Support');
      await flow.acceptedOffer(partner, tenantDomain, { duration: '30d' });
      const declined = await flow.offer(other, tenantDomain, { roles: ['reports-reader'] });
      await flow.api.post(await flow.invitationPath(tenantDomain, 2)).type('form').send({ choice: 'no' });
      await flow.waitForStatus(other, declined.id, 'declined');

      const { agent } = await flow.signIn(tenantDomain);
      const active = await agent.get('/partner-relationships');
      expect(active.headers['cache-control']).toBe('no-store');
      const today = new Date().toISOString().slice(0, 10);
      const in30 = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
      expect(active.text).toMatch(new RegExp(`<th scope="row">Fabrikam IT</th><td>active</td><td>User administrator, License administrator</td><td>${today}</td><td>${in30}</td>`));
      expect(active.text).not.toContain('Northwind Support');
      expect(active.text).toContain('<a href="/partner-relationships?filter=active" aria-current="page">active</a>');

      const ended = await agent.get('/partner-relationships?filter=ended');
      expect(ended.text).toContain('Northwind Support');
      expect(ended.text).not.toContain('Fabrikam IT');
      expect(ended.text).not.toContain('>Delete</button>');
      const all = await agent.get('/partner-relationships?filter=all');
      expect(all.text).toContain('Northwind Support');
      expect(all.text).toContain('Fabrikam IT');
    });

    it('Delete → "Are you sure?" → Yes → confirmation; gone from the active list and access says no at once', async () => {
      const { id, tenantDomain } = await flow.acceptedOffer(partner);
      const access = () => flow.api.get('/api/v1/access').query({ tenant: tenantDomain, role: 'user-administrator' }).set(auth(partner.key));
      expect((await access()).body).toEqual({ allowed: true, relationshipId: id });

      const { agent } = await flow.signIn(tenantDomain);
      const list = await agent.get('/partner-relationships');
      expect(list.text).toContain('aria-label="Delete Fabrikam IT"');
      const confirm = await agent.post(`/partner-relationships/${id}/delete`).type('form').send({ csrf: csrfIn(list.text) });
      expect(confirm.status).toBe(200);
      expect(confirm.text).toContain('<h1>Are you sure?</h1>');
      expect(confirm.text).toContain('<button type="submit">Yes</button>');
      // Asking is not removing.
      expect(await flow.statusOf(partner, id)).toBe('active');

      const removed = await agent.post(`/partner-relationships/${id}/delete/confirm`).type('form').send({ csrf: csrfIn(confirm.text) });
      expect(removed.status).toBe(200);
      expect(removed.text).toContain('Fabrikam IT was removed');
      expect((await access()).body).toEqual({ allowed: false });
      expect((await agent.get('/partner-relationships')).text).toContain("We didn't find anything to show here.");
      expect(await flow.statusOf(partner, id)).toBe('terminated');

      const twice = await agent.post(`/partner-relationships/${id}/delete/confirm`).type('form').send({ csrf: csrfIn(confirm.text) });
      expect(twice.status).toBe(409);
      expect(twice.text).toContain('already ended');
    });

    it('every form of a signed-in customer needs its CSRF token; without it nothing changes', async () => {
      const { id, tenantDomain } = await flow.acceptedOffer(partner);
      const { agent } = await flow.signIn(tenantDomain);
      for (const [path, body] of [
        [`/partner-relationships/${id}/delete`, {}],
        [`/partner-relationships/${id}/delete/confirm`, {}],
        [`/partner-relationships/${id}/delete/confirm`, { csrf: 'forged' }],
        ['/sign-out', { csrf: 'forged' }],
      ] as const) {
        const res = await agent.post(path).type('form').send(body);
        expect(res.status, path).toBe(403);
        expect(res.text).toContain('The form expired');
      }
      expect(await flow.statusOf(partner, id)).toBe('active');
      // Still signed in (the forged sign-out did nothing); a real one ends the session.
      const list = await agent.get('/partner-relationships');
      expect(list.text).toContain('Fabrikam IT');
      const out = await agent.post('/sign-out').type('form').send({ csrf: csrfIn(list.text) });
      expect(out.status).toBe(303);
      expect((await agent.get('/partner-relationships')).text).toContain('Email me a sign-in link');
    });
  });
});
