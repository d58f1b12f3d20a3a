import type request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { partnerCreatedSchema, partnerListSchema, relationshipListSchema, relationshipSchema, roleCatalogSchema } from '../../src/apiDocs/responseSchemas.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { waitFor } from '../support/waitFor.js';
import { expectProblem, expectShape, field, idOf, uniqueDomain } from './apiHarness.js';
import { auth, supertestOf } from './customerFlow.js';

// Every route of the partner JSON API and every error it answers, on the real
// HTTP server with the worker running (steps go through real workflows).

const roles = ['user-administrator', 'license-administrator'];
const offerFor = (tenantDomain: string, extra: Record<string, unknown> = {}) => ({
  customer: { tenantDomain, adminEmail: `admin@${tenantDomain}`, name: 'Contoso' },
  roles,
  terms: 'Business hours only.',
  ...extra,
});


describe('partner API', () => {
  const system = useTestSystem('partner-api');
  const api = supertestOf(system);
  let operator: string;
  let partnerKey: string;
  let partnerId: string;

  const relationshipCount = () => system.db.relationship.count({ where: { partnerId } });

  /** Creates an offer and waits until its workflow has written the invitation (the representation then holds still). */
  async function settledOffer(label: string) {
    const domain = uniqueDomain(label);
    const created = await api.post('/api/v1/relationships').set(auth(partnerKey)).send(offerFor(domain));
    expect(created.status).toBe(201);
    await system.smtp.waitForMail((m) => m.to.includes(`admin@${domain}`), 'the invitation');
    return { id: idOf(created), domain };
  }

  beforeAll(async () => {
    operator = system.operatorToken;
    const created = await api.post('/api/v1/admin/partners').set(auth(operator)).send({ name: 'Fabrikam IT', contactEmail: 'ops@fabrikam.example' });
    expect(created.status).toBe(201);
    const partner = expectShape(partnerCreatedSchema, created.body);
    partnerKey = partner.apiKey ?? '';
    partnerId = partner.id;
    expect(partnerKey).toMatch(/^pf_/);
    expect(created.headers['cache-control']).toBe('no-store');
    // Stored hashed: the key itself is nowhere in the database.
    const row = await system.db.partner.findUniqueOrThrow({ where: { id: partnerId }, include: { apiKeys: true } });
    expect(row.apiKeys).toHaveLength(1);
    expect(row.apiKeys[0]?.keyHash).not.toContain(partnerKey);
    expect(JSON.stringify(row)).not.toContain(partnerKey);
  });

  it('GET /roles needs no key and lists the catalog', async () => {
    const res = await api.get('/api/v1/roles');
    expect(res.status).toBe(200);
    expect(expectShape(roleCatalogSchema, res.body).roles.map((r) => r.id)).toContain('user-administrator');
  });

  it('POST /relationships creates an offer: 201, Location, the relationship with its Temporal UI link', async () => {
    const res = await api.post('/api/v1/relationships').set(auth(partnerKey)).send(offerFor(uniqueDomain('create')));
    expect(res.status).toBe(201);
    const rel = expectShape(relationshipSchema, res.body);
    expect(rel.status).toBe('invited');
    expect(res.headers.location).toBe(`/api/v1/relationships/${rel.id}`);
    expect(rel.links.temporalUi).toBe(`http://localhost:8233/namespaces/default/workflows/relationship-${rel.id}`);
    expect(res.headers['ratelimit-limit']).toBeDefined();
  });

  describe('bad input is refused with 400 (413, 415) problem+json and changes nothing', () => {
    const valid = () => offerFor(uniqueDomain('bad'));
    const cases: [string, (r: request.Test) => request.Test, number, string][] = [
      ['an unknown field', (r) => r.send({ ...valid(), admin: true }), 400, 'validation'],
      ['an unknown nested field', (r) => r.send({ ...valid(), customer: { ...valid().customer, vip: true } }), 400, 'validation'],
      ['a wrong type', (r) => r.send({ ...valid(), roles: 'user-administrator' }), 400, 'validation'],
      ['a number as a string', (r) => r.send({ ...valid(), trial: { offer: 'X', seats: '5', days: 30 } }), 400, 'validation'],
      ['an unknown role', (r) => r.send({ ...valid(), roles: ['global-administrator'] }), 400, 'validation'],
      ['a bad duration', (r) => r.send({ ...valid(), duration: 'forever' }), 400, 'validation'],
      ['a bad domain', (r) => r.send({ ...valid(), customer: { tenantDomain: 'not a domain', adminEmail: 'a@b.example' } }), 400, 'validation'],
      ['an empty body', (r) => r.send({}), 400, 'validation'],
      ['a JSON array', (r) => r.set('content-type', 'application/json').send('[]'), 400, 'validation'],
      ['malformed JSON', (r) => r.set('content-type', 'application/json').send('{"customer": {'), 400, 'validation'],
      ['an oversized body', (r) => r.send({ ...valid(), terms: 'x'.repeat(40_000) }), 413, 'payloadTooLarge'],
      ['a body that is not JSON', (r) => r.set('content-type', 'text/plain').send('customer=contoso'), 415, 'unsupportedMediaType'],
      ['a form body', (r) => r.type('form').send({ roles: 'user-administrator' }), 415, 'unsupportedMediaType'],
    ];
    it.each(cases)('%s', async (_label, build, status, code) => {
      const before = await relationshipCount();
      const res = await build(api.post('/api/v1/relationships').set(auth(partnerKey)));
      const problem = expectProblem(res, status, code);
      if (code === 'validation' && _label !== 'malformed JSON' && _label !== 'a JSON array' && _label !== 'an empty body') {
        expect(problem.errors?.length).toBeGreaterThan(0);
      }
      expect(await relationshipCount()).toBe(before);
    });
  });

  it('a second live offer for the same tenant and roles is a 409 conflict naming the first', async () => {
    const body = offerFor(uniqueDomain('dup'));
    const first = await api.post('/api/v1/relationships').set(auth(partnerKey)).send(body);
    expect(first.status).toBe(201);
    const again = await api.post('/api/v1/relationships').set(auth(partnerKey)).send(body);
    expect(expectProblem(again, 409, 'conflict')).toMatchObject({ reason: 'duplicateOffer', relationshipId: field(first, 'id') });
  });

  it('an offer never touches the tenant directory: any address, registered tenant or not, is a 201', async () => {
    const registered = uniqueDomain('registered');
    const put = await api.put(`/api/v1/admin/tenants/${registered}`).set(auth(operator)).send({ name: 'Real Contoso', admins: [`real@${registered}`] });
    expect(put.status).toBe(201);
    const other = { ...offerFor(registered), customer: { tenantDomain: registered, adminEmail: `someone@${registered}`, name: 'Fake name' } };
    expect((await api.post('/api/v1/relationships').set(auth(partnerKey)).send(other)).status).toBe(201);
    const unknown = uniqueDomain('unregistered');
    expect((await api.post('/api/v1/relationships').set(auth(partnerKey)).send(offerFor(unknown))).status).toBe(201);
    // Neither offer created or changed a tenant.
    expect(await system.db.tenant.count({ where: { domain: unknown } })).toBe(0);
    const after = await api.get(`/api/v1/admin/tenants/${registered}`).set(auth(operator));
    expect(after.body).toMatchObject({ name: 'Real Contoso', admins: [{ email: `real@${registered}` }] });
  });

  it('GET one has a strong ETag; If-None-Match answers 304, a stale tag 200', async () => {
    const { id } = await settledOffer('etag');
    const res = await api.get(`/api/v1/relationships/${id}`).set(auth(partnerKey));
    expect(res.status).toBe(200);
    expectShape(relationshipSchema, res.body);
    const etag = String(res.headers.etag);
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(res.headers['cache-control']).toBe('private, no-cache');

    const same = await api.get(`/api/v1/relationships/${id}`).set(auth(partnerKey)).set('If-None-Match', etag);
    expect(same.status).toBe(304);
    expect(same.text).toBe('');
    expect(same.headers.etag).toBe(etag);
    // If-None-Match compares weakly, and takes a list.
    expect((await api.get(`/api/v1/relationships/${id}`).set(auth(partnerKey)).set('If-None-Match', `"x", W/${etag}`)).status).toBe(304);
    const stale = await api.get(`/api/v1/relationships/${id}`).set(auth(partnerKey)).set('If-None-Match', '"stale"');
    expect(stale.status).toBe(200);
  });

  it('GET one: a malformed id is 400, an unknown one 404', async () => {
    expectProblem(await api.get('/api/v1/relationships/not-a-uuid').set(auth(partnerKey)), 400, 'validation');
    expectProblem(await api.get('/api/v1/relationships/00000000-0000-4000-8000-000000000000').set(auth(partnerKey)), 404, 'notFound');
  });

  it('GET list filters by status and tenant, limits, and refuses unknown filters', async () => {
    const domain = uniqueDomain('list');
    const created = await api.post('/api/v1/relationships').set(auth(partnerKey)).send(offerFor(domain));
    const res = await api.get('/api/v1/relationships').query({ status: 'invited', tenant: domain }).set(auth(partnerKey));
    expect(res.status).toBe(200);
    const { relationships } = expectShape(relationshipListSchema, res.body);
    expect(relationships.map((r) => r.id)).toEqual([field(created, 'id')]);
    expect(field(await api.get('/api/v1/relationships').query({ status: 'active', tenant: domain }).set(auth(partnerKey)), 'relationships')).toEqual([]);
    expect(field(await api.get('/api/v1/relationships').query({ limit: 1 }).set(auth(partnerKey)), 'relationships')).toHaveLength(1);
    expectProblem(await api.get('/api/v1/relationships').query({ status: 'bogus' }).set(auth(partnerKey)), 400, 'validation');
    expectProblem(await api.get('/api/v1/relationships').query({ sort: 'name' }).set(auth(partnerKey)), 400, 'validation');
    expectProblem(await api.get('/api/v1/relationships').query({ limit: 0 }).set(auth(partnerKey)), 400, 'validation');
    expectProblem(await api.get('/api/v1/relationships?status=invited&status=active').set(auth(partnerKey)), 400, 'validation');
  });

  it('withdraw honours If-Match: a stale ETag is 412 and changes nothing; the current one withdraws; again is 409', async () => {
    const { id } = await settledOffer('withdraw');
    const etag = String((await api.get(`/api/v1/relationships/${id}`).set(auth(partnerKey))).headers.etag);

    const stale = await api.post(`/api/v1/relationships/${id}/withdraw`).set(auth(partnerKey)).set('If-Match', '"stale"').send({});
    expect(expectProblem(stale, 412, 'preconditionFailed').currentEtag).toBe(etag);
    // A weak tag never matches If-Match (strong comparison).
    expectProblem(await api.post(`/api/v1/relationships/${id}/withdraw`).set(auth(partnerKey)).set('If-Match', `W/${etag}`).send({}), 412, 'preconditionFailed');
    expect(field(await api.get(`/api/v1/relationships/${id}`).set(auth(partnerKey)), 'status')).toBe('invited');

    const withdrawn = await api.post(`/api/v1/relationships/${id}/withdraw`).set(auth(partnerKey)).set('If-Match', etag).send({ reason: 'Sent by mistake' });
    expect(withdrawn.status).toBe(200);
    const rel = expectShape(relationshipSchema, withdrawn.body);
    expect(rel.status).toBe('withdrawn');
    expect(rel.transitions.at(-1)).toMatchObject({ to: 'withdrawn', reason: 'Sent by mistake', actor: { type: 'partner', id: partnerId } });

    const again = await api.post(`/api/v1/relationships/${id}/withdraw`).set(auth(partnerKey)).send({});
    expect(expectProblem(again, 409, 'stepRefused').reason).toMatch(/invalidState|alreadyEnded/);
    const ended = await waitFor(async () => {
      const res = await api.get(`/api/v1/relationships/${id}`).set(auth(partnerKey));
      return field(res, 'status') === 'withdrawn' ? res : undefined;
    }, { what: 'withdrawn in the read model' });
    // Its ETag moved with the change, so the old one is stale now.
    expect(ended.headers.etag).not.toBe(etag);
  });

  it('resend sends a new link and moves the ETag; terminate on an invitation is 409; step bodies are validated', async () => {
    const { id, domain } = await settledOffer('resend');
    const before = await api.get(`/api/v1/relationships/${id}`).set(auth(partnerKey));

    expectProblem(await api.post(`/api/v1/relationships/${id}/resend`).set(auth(partnerKey)).send({ reason: 'x', urgent: true }), 400, 'validation');
    expectProblem(await api.post(`/api/v1/relationships/${id}/resend`).set(auth(partnerKey)).send({ reason: 42 }), 400, 'validation');

    const resent = await api.post(`/api/v1/relationships/${id}/resend`).set(auth(partnerKey)).set('If-Match', String(before.headers.etag)).send();
    expect(resent.status).toBe(200);
    expect(field(resent, 'status')).toBe('invited');
    await waitFor(() => system.smtp.messages.filter((m) => m.to.includes(`admin@${domain}`)).length >= 2, { what: 'the second invitation' });
    await waitFor(async () => {
      const res = await api.get(`/api/v1/relationships/${id}`).set(auth(partnerKey));
      return res.headers.etag !== before.headers.etag;
    }, { what: 'a new ETag after the resend' });

    const terminate = await api.post(`/api/v1/relationships/${id}/terminate`).set(auth(partnerKey)).send({});
    expect(expectProblem(terminate, 409, 'stepRefused')).toMatchObject({ reason: 'invalidState', currentStatus: 'invited' });
  });

  it('GET /access answers for the calling partner and validates its query', async () => {
    const res = await api.get('/api/v1/access').query({ tenant: uniqueDomain('access'), role: 'user-administrator' }).set(auth(partnerKey));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ allowed: false });
    expectProblem(await api.get('/api/v1/access').query({ tenant: 'contoso.com' }).set(auth(partnerKey)), 400, 'validation');
    expectProblem(await api.get('/api/v1/access').query({ tenant: 'contoso.com', role: 'root' }).set(auth(partnerKey)), 400, 'validation');
  });

  describe('Idempotency-Key', () => {
    it('the same key and body answers the first result again, once created', async () => {
      const body = offerFor(uniqueDomain('idem'));
      const first = await api.post('/api/v1/relationships').set(auth(partnerKey)).set('Idempotency-Key', 'offer-1').send(body);
      expect(first.status).toBe(201);
      // The same body with its fields in another order is the same request.
      const reordered = { roles: body.roles, terms: body.terms, customer: { name: 'Contoso', adminEmail: body.customer.adminEmail, tenantDomain: body.customer.tenantDomain } };
      const second = await api.post('/api/v1/relationships').set(auth(partnerKey)).set('Idempotency-Key', 'offer-1').send(reordered);
      expect(second.status).toBe(201);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(second.headers.location).toBe(first.headers.location);
      expect(await system.db.relationship.count({ where: { tenantDomain: body.customer.tenantDomain } })).toBe(1);
    });

    it('the same key with a different body is 422 and changes nothing', async () => {
      const first = await api.post('/api/v1/relationships').set(auth(partnerKey)).set('Idempotency-Key', 'offer-2').send(offerFor(uniqueDomain('idem')));
      expect(first.status).toBe(201);
      const before = await relationshipCount();
      const other = await api.post('/api/v1/relationships').set(auth(partnerKey)).set('Idempotency-Key', 'offer-2').send(offerFor(uniqueDomain('idem')));
      expectProblem(other, 422, 'idempotencyKeyReused');
      expect(await relationshipCount()).toBe(before);
      // Another path under the same key is another request too.
      expectProblem(await api.post(`/api/v1/relationships/${idOf(first)}/withdraw`).set(auth(partnerKey)).set('Idempotency-Key', 'offer-2').send({}), 422, 'idempotencyKeyReused');
    });

    it('concurrent requests with one key create one relationship', async () => {
      const body = offerFor(uniqueDomain('race'));
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => api.post('/api/v1/relationships').set(auth(partnerKey)).set('Idempotency-Key', 'offer-race').send(body)),
      );
      const created = answers.filter((a) => a.status === 201);
      expect(created.length).toBeGreaterThanOrEqual(1);
      expect(new Set(created.map((a) => idOf(a))).size).toBe(1);
      for (const a of answers.filter((x) => x.status !== 201)) expectProblem(a, 409, 'idempotencyKeyInProgress');
      expect(await system.db.relationship.count({ where: { tenantDomain: body.customer.tenantDomain } })).toBe(1);
    });

    it('keys are per caller, a failed request frees its key, and a bad key is refused', async () => {
      const domain = uniqueDomain('idem');
      const refused = await api.post('/api/v1/relationships').set(auth(partnerKey)).set('Idempotency-Key', 'offer-3').send({ ...offerFor(domain), extra: 1 });
      expectProblem(refused, 400, 'validation');
      const fixed = await api.post('/api/v1/relationships').set(auth(partnerKey)).set('Idempotency-Key', 'offer-3').send(offerFor(domain));
      expect(fixed.status).toBe(201);
      expect(fixed.headers['idempotent-replayed']).toBeUndefined();
      expectProblem(await api.post('/api/v1/relationships').set(auth(partnerKey)).set('Idempotency-Key', 'x'.repeat(201)).send(offerFor(domain)), 400, 'validation');
      // The operator using the same key string is a different caller.
      const operatorCall = await api.post('/api/v1/admin/partners').set(auth(operator)).set('Idempotency-Key', 'offer-3').send({ name: 'Other', contactEmail: 'o@other.example' });
      expect(operatorCall.status).toBe(201);
    });

    it('a repeated step answers the first result instead of a 409', async () => {
      const created = await api.post('/api/v1/relationships').set(auth(partnerKey)).send(offerFor(uniqueDomain('idem-step')));
      const id = idOf(created);
      const first = await api.post(`/api/v1/relationships/${id}/withdraw`).set(auth(partnerKey)).set('Idempotency-Key', `withdraw-${id}`).send({});
      expect(first.status).toBe(200);
      const again = await api.post(`/api/v1/relationships/${id}/withdraw`).set(auth(partnerKey)).set('Idempotency-Key', `withdraw-${id}`).send({});
      expect(again.status).toBe(200);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
    });

    it('a replayed partner creation does not show the secrets again', async () => {
      const body = { name: 'Northwind', contactEmail: 'ops@northwind.example' };
      const first = await api.post('/api/v1/admin/partners').set(auth(operator)).set('Idempotency-Key', 'partner-1').send(body);
      expect(first.status).toBe(201);
      expect(field(first, 'apiKey')).toMatch(/^pf_/);
      const again = await api.post('/api/v1/admin/partners').set(auth(operator)).set('Idempotency-Key', 'partner-1').send(body);
      expect(again.status).toBe(201);
      expect(again.body).toEqual({ id: field(first, 'id'), name: 'Northwind', contactEmail: 'ops@northwind.example', provisioner: 'local' });
      expect(await system.db.partner.count({ where: { name: 'Northwind' } })).toBe(1);
    });
  });

  it('operator: creates partners (validated), lists them without keys, lists relationships across partners', async () => {
    expectProblem(await api.post('/api/v1/admin/partners').set(auth(operator)).send({ name: 'X', contactEmail: 'nope' }), 400, 'validation');
    expectProblem(await api.post('/api/v1/admin/partners').set(auth(operator)).send({ name: 'X', contactEmail: 'x@x.example', apiKey: 'mine' }), 400, 'validation');
    const other = await api.post('/api/v1/admin/partners').set(auth(operator)).send({ name: 'Litware', contactEmail: 'ops@litware.example' });
    const otherKey = String(field(other, 'apiKey'));
    const theirs = await api.post('/api/v1/relationships').set(auth(otherKey)).send(offerFor(uniqueDomain('litware')));
    expect(theirs.status).toBe(201);

    const partners = expectShape(partnerListSchema, (await api.get('/api/v1/admin/partners').set(auth(operator))).body).partners;
    expect(partners.map((p) => p.id)).toEqual(expect.arrayContaining([partnerId, idOf(other)]));
    expect(JSON.stringify(partners)).not.toContain(otherKey);

    const all = expectShape(relationshipListSchema, (await api.get('/api/v1/relationships').set(auth(operator))).body).relationships;
    // Other test files share the database: the operator sees theirs too.
    expect(all.map((r) => r.partnerId)).toEqual(expect.arrayContaining([partnerId, idOf(other)]));
    const onlyTheirs = expectShape(relationshipListSchema, (await api.get('/api/v1/relationships').query({ partnerId: idOf(other) }).set(auth(operator))).body);
    expect(onlyTheirs.relationships.map((r) => r.id)).toEqual([field(theirs, 'id')]);
    const one = await api.get(`/api/v1/relationships/${idOf(theirs)}`).set(auth(operator));
    expect(one.status).toBe(200);
    expect(expectShape(relationshipSchema, one.body).links.temporalUi).toContain(`relationship-${idOf(theirs)}`);
  });

  it('an unknown API route is a 404 problem; problem types lead to a description', async () => {
    expectProblem(await api.get('/api/v1/nothing-here').set(auth(partnerKey)), 404, 'notFound');
    expectProblem(await api.delete(`/api/v1/relationships/00000000-0000-4000-8000-000000000000`).set(auth(partnerKey)), 404, 'notFound');
    const page = await api.get('/problems/idempotencyKeyReused');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Idempotency-Key');
    expect((await api.get('/problems/nonsense')).status).toBe(404);
    expect((await api.get('/problems/constructor')).status).toBe(404);
  });
});
