import { beforeAll, describe, expect, it } from 'vitest';
import { useTestSystem } from '../support/useTestSystem.js';
import { relationshipListSchema } from '../../src/apiDocs/responseSchemas.js';
import { expectShape, field } from './apiHarness.js';
import { auth, csrfIn, customerFlow } from './customerFlow.js';

// Who may do what: partner A vs partner B, customer of tenant X vs tenant Y,
// no token, a bad token, operator vs partner. Every refusal is checked to
// change nothing.

type Caller = 'none' | 'badToken' | 'malformedHeader' | 'partnerA' | 'partnerB' | 'operator';

describe('authorization matrix', () => {
  const system = useTestSystem('authz');
  const flow = customerFlow(system);
  const api = flow.api;
  let partnerA: { id: string; name: string; key: string };
  let partnerB: { id: string; name: string; key: string };
  let relA: { id: string; tenantDomain: string };
  let relB: { id: string; tenantDomain: string };

  const headersOf = (caller: Caller): Record<string, string> =>
    ({
      none: {},
      badToken: auth(`pf_${'x'.repeat(43)}`),
      malformedHeader: { Authorization: `Basic ${Buffer.from(`op:${system.operatorToken}`).toString('base64')}` },
      partnerA: auth(partnerA.key),
      partnerB: auth(partnerB.key),
      operator: auth(system.operatorToken),
    })[caller];

  beforeAll(async () => {
    partnerA = await flow.newPartner('Partner A');
    partnerB = await flow.newPartner('Partner B');
    relA = await flow.acceptedOffer(partnerA);
    relB = await flow.acceptedOffer(partnerB);
  });

  const unchanged = async () => {
    expect(await flow.statusOf(partnerA, relA.id)).toBe('active');
    expect(await flow.statusOf(partnerB, relB.id)).toBe('active');
  };

  describe('partner API', () => {
    const routes = () => [
      { name: 'list', call: (h: Record<string, string>) => api.get('/api/v1/relationships').set(h) },
      { name: 'get A', call: (h: Record<string, string>) => api.get(`/api/v1/relationships/${relA.id}`).set(h) },
      { name: 'resend A', call: (h: Record<string, string>) => api.post(`/api/v1/relationships/${relA.id}/resend`).set(h).send({}) },
      { name: 'withdraw A', call: (h: Record<string, string>) => api.post(`/api/v1/relationships/${relA.id}/withdraw`).set(h).send({}) },
      { name: 'terminate A', call: (h: Record<string, string>) => api.post(`/api/v1/relationships/${relA.id}/terminate`).set(h).send({}) },
      { name: 'access X', call: (h: Record<string, string>) => api.get('/api/v1/access').query({ tenant: relA.tenantDomain, role: 'user-administrator' }).set(h) },
      {
        name: 'create offer',
        call: (h: Record<string, string>) =>
          api.post('/api/v1/relationships').set(h).send({ customer: { tenantDomain: relA.tenantDomain, adminEmail: `admin@${relA.tenantDomain}` }, roles: ['reports-reader'] }),
      },
      { name: 'create partner', call: (h: Record<string, string>) => api.post('/api/v1/admin/partners').set(h).send({ name: 'Intruder', contactEmail: 'x@intruder.example' }) },
      { name: 'list partners', call: (h: Record<string, string>) => api.get('/api/v1/admin/partners').set(h) },
    ];

    it.each(['none', 'badToken', 'malformedHeader'] as const)('%s: every call is 401 problem+json', async (caller) => {
      for (const route of routes()) {
        const res = await route.call(headersOf(caller));
        expect(res.status, route.name).toBe(401);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(field(res, 'type')).toBe('/problems/unauthorized');
      }
      expect((await api.get('/api/v1/roles').set(headersOf(caller))).status).toBe(200);
      await unchanged();
      expect(await system.db.partner.count({ where: { name: 'Intruder' } })).toBe(0);
    });

    it("partner B cannot see or change partner A's relationship: 404, as if it did not exist", async () => {
      const h = headersOf('partnerB');
      for (const name of ['get A', 'resend A', 'withdraw A', 'terminate A']) {
        const res = await routes().find((r) => r.name === name)?.call(h);
        expect(res?.status, name).toBe(404);
        expect(field(res, 'type')).toBe('/problems/notFound');
      }
      // Also with an If-Match and an Idempotency-Key: nothing leaks through a 412 or a replay.
      expect((await api.post(`/api/v1/relationships/${relA.id}/terminate`).set(h).set('If-Match', '"x"').set('Idempotency-Key', 'b-1').send({})).status).toBe(404);
      const list = await api.get('/api/v1/relationships').set(h);
      expect(expectShape(relationshipListSchema, list.body).relationships.map((r) => r.id)).toEqual([relB.id]);
      // A foreign partnerId filter only narrows B's own list.
      expect(field(await api.get('/api/v1/relationships').query({ partnerId: partnerA.id }).set(h), 'relationships')).toEqual([]);
      // B holds no access in A's tenant, though A does.
      expect((await api.get('/api/v1/access').query({ tenant: relA.tenantDomain, role: 'user-administrator' }).set(h)).body).toEqual({ allowed: false });
      expect((await api.get('/api/v1/access').query({ tenant: relA.tenantDomain, role: 'user-administrator' }).set(headersOf('partnerA'))).body).toEqual({
        allowed: true,
        relationshipId: relA.id,
      });
      await unchanged();
    });

    it('a partner may not use operator routes: 403', async () => {
      for (const name of ['create partner', 'list partners']) {
        const res = await routes().find((r) => r.name === name)?.call(headersOf('partnerA'));
        expect(res?.status, name).toBe(403);
        expect(field(res, 'type')).toBe('/problems/forbidden');
      }
      expect(await system.db.partner.count({ where: { name: 'Intruder' } })).toBe(0);
    });

    it("the operator sees every partner's relationships but does not act as a partner: 403", async () => {
      const h = headersOf('operator');
      expect((await api.get(`/api/v1/relationships/${relA.id}`).set(h)).status).toBe(200);
      expect((await api.get(`/api/v1/relationships/${relB.id}`).set(h)).status).toBe(200);
      const ids = expectShape(relationshipListSchema, (await api.get('/api/v1/relationships').set(h)).body).relationships.map((r) => r.id);
      expect(ids).toEqual(expect.arrayContaining([relA.id, relB.id]));
      for (const name of ['resend A', 'withdraw A', 'terminate A', 'access X', 'create offer']) {
        const res = await routes().find((r) => r.name === name)?.call(h);
        expect(res?.status, name).toBe(403);
        expect(field(res, 'type')).toBe('/problems/forbidden');
      }
      await unchanged();
    });

    it('the queue dashboard takes the operator token only', async () => {
      expect((await api.get('/admin/queues')).status).toBe(401);
      expect((await api.get('/admin/queues').set(headersOf('partnerA'))).status).toBe(401);
      expect((await api.get('/admin/queues').set(headersOf('operator'))).status).toBe(200);
    });
  });

  describe('customer pages', () => {
    it("the customer of tenant X cannot see or remove tenant Y's partner", async () => {
      const { agent } = await flow.signIn(relA.tenantDomain);
      const list = await agent.get('/partner-relationships?filter=all');
      expect(list.text).toContain('Partner A');
      expect(list.text).not.toContain('Partner B');
      const csrf = csrfIn(list.text);
      for (const path of [`/partner-relationships/${relB.id}/delete`, `/partner-relationships/${relB.id}/delete/confirm`]) {
        const res = await agent.post(path).type('form').send({ csrf });
        expect(res.status, path).toBe(404);
        expect(res.text).toContain('No such partner relationship for your organisation.');
      }
      await unchanged();
    });

    it('no session, a tampered session, or an API token: not signed in, nothing changes', async () => {
      const noSession = await api.post(`/partner-relationships/${relA.id}/delete/confirm`).type('form').send({ csrf: 'x' });
      expect(noSession.status).toBe(401);
      expect(noSession.text).toContain('sign in again');

      // Tenant X's cookie holds only a random session id (no tenant to rewrite); a changed id is no session.
      const { setCookie } = await flow.signIn(relA.tenantDomain);
      const cookie = setCookie.find((c) => c.startsWith('pf_session='))?.split(';')[0] ?? '';
      expect(decodeURIComponent(cookie)).not.toContain(relA.tenantDomain);
      const at = cookie.indexOf('%3A') + '%3A'.length + 5; // a character of the id, before the signature
      const forged = `${cookie.slice(0, at)}${cookie[at] === 'A' ? 'B' : 'A'}${cookie.slice(at + 1)}`;
      expect(forged).not.toBe(cookie);
      const asY = await api.get('/partner-relationships?filter=all').set('Cookie', forged);
      expect(asY.text).toContain('Email me a sign-in link');
      expect(asY.text).not.toContain('Partner B');
      expect((await api.post(`/partner-relationships/${relB.id}/delete/confirm`).set('Cookie', forged).type('form').send({ csrf: 'x' })).status).toBe(401);

      // Bearer tokens mean nothing to the pages, and the session cookie nothing to the API.
      expect((await api.get('/partner-relationships').set(headersOf('operator'))).text).toContain('Email me a sign-in link');
      expect((await api.get('/api/v1/relationships').set('Cookie', cookie)).status).toBe(401);
      await unchanged();
    });
  });
});
