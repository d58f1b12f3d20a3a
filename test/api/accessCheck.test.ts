import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_BATCH_CHECKS } from '../../src/access/accessQuestions.js';
import { accessAnswerSchema, accessBatchAnswerSchema } from '../../src/apiDocs/responseSchemas.js';
import { useTestApp } from '../support/useTestApp.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { expectProblem, expectShape, field, uniqueDomain } from './apiHarness.js';
import { auth, createEnforcer, createPartner, customerFlow } from './customerFlow.js';

// The access check (issue 18): the batch, answers read at the moment of the
// request (status, ends_at, the partner's pause, not only the grant's
// revocation), and budgets of its own (429 with Retry-After, never a "no").


describe('the access check on the real stack', () => {
  const system = useTestSystem('access-check');
  const flow = customerFlow(system);
  const api = flow.api;
  let partnerA: { id: string; key: string };
  let partnerB: { id: string; key: string };
  let relX: { id: string; tenantDomain: string };
  let relY: { id: string; tenantDomain: string };
  let scoped: { id: string; key: string };
  let unscoped: { id: string; key: string };

  const batch = (key: string, checks: Record<string, string>[]) => api.post('/api/v1/access/batch').set(auth(key)).send({ checks });
  const answers = async (key: string, checks: Record<string, string>[]) => {
    const res = await batch(key, checks);
    expect(res.status, res.text).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    return expectShape(accessBatchAnswerSchema, res.body).results;
  };
  const single = async (key: string, query: Record<string, string>) => {
    const res = await api.get('/api/v1/access').query(query).set(auth(key));
    expect(res.status, res.text).toBe(200);
    return expectShape(accessAnswerSchema, res.body);
  };

  beforeAll(async () => {
    partnerA = await flow.newPartner('Checked A');
    partnerB = await flow.newPartner('Checked B');
    relX = await flow.acceptedOffer(partnerA, uniqueDomain('checked-x'));
    relY = await flow.acceptedOffer(partnerB, uniqueDomain('checked-y'));
    scoped = await createEnforcer(api, system.operatorToken, { name: 'Executor for X', tenants: [relX.tenantDomain] });
    unscoped = await createEnforcer(api, system.operatorToken, { name: 'Executor for all' });
  });

  describe('batch', () => {
    it('a partner key: answers in the order asked, mixed, each with the question it answers', async () => {
      const x = relX.tenantDomain;
      const y = relY.tenantDomain;
      const results = await answers(partnerA.key, [
        { tenant: y, role: 'user-administrator' },
        { tenant: x, role: 'user-administrator' },
        { tenant: x, role: 'reports-reader' },
        { tenant: x.toUpperCase(), role: 'license-administrator', partner: partnerA.id },
        { tenant: uniqueDomain('nowhere'), role: 'user-administrator' },
      ]);
      expect(results).toEqual([
        { tenant: y, role: 'user-administrator', allowed: false },
        { tenant: x, role: 'user-administrator', allowed: true, relationshipId: relX.id },
        { tenant: x, role: 'reports-reader', allowed: false },
        { tenant: x, role: 'license-administrator', partner: partnerA.id, allowed: true, relationshipId: relX.id },
        { tenant: expect.any(String) as string, role: 'user-administrator', allowed: false },
      ]);
    });

    it('an enforcer key: about several partners at once; the same answers as the single check', async () => {
      const checks = [
        { partner: partnerB.id, tenant: relY.tenantDomain, role: 'user-administrator' },
        { partner: partnerA.id, tenant: relY.tenantDomain, role: 'user-administrator' },
        { partner: partnerA.id, tenant: relX.tenantDomain, role: 'user-administrator' },
        { partner: partnerB.id, tenant: relX.tenantDomain, role: 'user-administrator' },
      ];
      const results = await answers(unscoped.key, checks);
      expect(results.map((r) => r.allowed)).toEqual([true, false, true, false]);
      for (const [n, check] of checks.entries()) {
        const { allowed, relationshipId } = results[n] ?? { allowed: undefined };
        expect(await single(unscoped.key, check)).toEqual(relationshipId ? { allowed, relationshipId } : { allowed });
      }
    });

    it(`at most ${MAX_BATCH_CHECKS} questions: ${MAX_BATCH_CHECKS} answered, one more is 400, none is 400`, async () => {
      const check = { tenant: relX.tenantDomain, role: 'user-administrator' };
      const full = await answers(partnerA.key, Array.from({ length: MAX_BATCH_CHECKS }, () => check));
      expect(full).toHaveLength(MAX_BATCH_CHECKS);
      expect(full.every((r) => r.allowed)).toBe(true);
      const over = await batch(partnerA.key, Array.from({ length: MAX_BATCH_CHECKS + 1 }, () => check));
      expectProblem(over, 400, 'validation');
      expectProblem(await batch(partnerA.key, []), 400, 'validation');
      expectProblem(await batch(partnerA.key, [check, { ...check, role: 'root' }]), 400, 'validation');
    });

    it('one question out of reach makes the whole batch 403, and no answer leaks', async () => {
      // A partner key naming another partner.
      const foreign = await batch(partnerA.key, [
        { tenant: relX.tenantDomain, role: 'user-administrator' },
        { tenant: relY.tenantDomain, role: 'user-administrator', partner: partnerB.id },
      ]);
      expectProblem(foreign, 403, 'forbidden');
      expect(foreign.text).not.toContain(relX.id);
      // An enforcer scoped to X asking about Y.
      const outside = await batch(scoped.key, [
        { partner: partnerA.id, tenant: relX.tenantDomain, role: 'user-administrator' },
        { partner: partnerB.id, tenant: relY.tenantDomain, role: 'user-administrator' },
      ]);
      expectProblem(outside, 403, 'forbidden');
      expect(outside.text).not.toContain(relY.id);
      // An enforcer must name the partner of every question.
      const unnamed = await batch(unscoped.key, [{ partner: partnerA.id, tenant: relX.tenantDomain, role: 'user-administrator' }, { tenant: relX.tenantDomain, role: 'user-administrator' }]);
      expectProblem(unnamed, 400, 'validation');
      expect(field(unnamed, 'errors')).toEqual([{ path: 'checks.1.partner', message: 'required with an enforcer key' }]);
    });

    it('no key, a dead key or the operator token: 401, 401, 403; a body that is not JSON is 415', async () => {
      const checks = [{ tenant: relX.tenantDomain, role: 'user-administrator' }];
      expectProblem(await api.post('/api/v1/access/batch').send({ checks }), 401, 'unauthorized');
      expectProblem(await batch(`pf_${randomUUID().replace(/-/g, '')}`, checks), 401, 'unauthorized');
      expectProblem(await batch(`pfe_${randomUUID().replace(/-/g, '')}`, checks), 401, 'unauthorized');
      expectProblem(await batch(system.operatorToken, checks), 403, 'forbidden');
      expectProblem(await api.post('/api/v1/access/batch').set(auth(partnerA.key)).type('text').send('checks'), 415, 'unsupportedMediaType');
    });
  });

  describe('answers read at the moment of the request, not only from the grant', () => {
    const ask = () => single(unscoped.key, { partner: partnerA.id, tenant: relX.tenantDomain, role: 'user-administrator' });
    const setRelationship = (sql: string) => system.db.$executeRawUnsafe(`UPDATE relationships SET ${sql} WHERE id = $1::uuid`, relX.id);

    it('past ends_at, a relationship whose worker has not ended it yet is a no; one that renews itself stays a yes', async () => {
      const { endsAt, autoExtend } = await system.db.relationship.findUniqueOrThrow({ where: { id: relX.id } });
      try {
        await setRelationship(`ends_at = (now() AT TIME ZONE 'UTC') - interval '1 second', auto_extend = false`);
        expect(await ask()).toEqual({ allowed: false });
        expect((await answers(partnerA.key, [{ tenant: relX.tenantDomain, role: 'user-administrator' }]))[0]?.allowed).toBe(false);
        await setRelationship(`auto_extend = true`);
        expect(await ask()).toEqual({ allowed: true, relationshipId: relX.id });
      } finally {
        await system.db.relationship.update({ where: { id: relX.id }, data: { endsAt, autoExtend } });
      }
      expect(await ask()).toEqual({ allowed: true, relationshipId: relX.id });
    });

    it('a relationship no longer active is a no even while its grant is not revoked yet', async () => {
      try {
        await setRelationship(`status = 'terminated'`);
        expect(await ask()).toEqual({ allowed: false });
      } finally {
        await setRelationship(`status = 'active'`);
      }
      expect(await ask()).toEqual({ allowed: true, relationshipId: relX.id });
    });

    it('a paused partner is a no for every key that asks, at once; the answer comes back with the resume', async () => {
      const pause = (at: Date | null) => system.db.partner.update({ where: { id: partnerA.id }, data: { pausedAt: at } });
      try {
        await pause(new Date());
        expect(await ask()).toEqual({ allowed: false });
        expect(await single(partnerA.key, { tenant: relX.tenantDomain, role: 'user-administrator' })).toEqual({ allowed: false });
        // Another partner is not affected.
        expect(await single(unscoped.key, { partner: partnerB.id, tenant: relY.tenantDomain, role: 'user-administrator' })).toEqual({ allowed: true, relationshipId: relY.id });
      } finally {
        await pause(null);
      }
      expect(await ask()).toEqual({ allowed: true, relationshipId: relX.id });
    });
  });
});

describe('access check budgets: their own, per partner and per enforcer', () => {
  const { app, api } = useTestApp({
    env: { ACCESS_CHECKS_PER_PARTNER: '20', ACCESS_CHECKS_PER_ENFORCER: '30', ACCESS_CHECK_WINDOW_SECONDS: '3600', PARTNER_RATE_LIMIT_POINTS: '5', AUTH_FAILURE_LIMIT: '1000' },
  });
  const check = { tenant: 'contoso.example', role: 'user-administrator' };
  const ask = (key: string, query: Record<string, string> = check) => api.get('/api/v1/access').query(query).set(auth(key));

  /** A 429 problem with a Retry-After within the window: a refusal, never an answer. */
  const expectRefused = (res: Awaited<ReturnType<typeof ask>>) => {
    expectProblem(res, 429, 'rateLimited');
    expect(res.body).not.toHaveProperty('allowed');
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
  };

  it('a partner: 20 checks (single or batched), then 429 with Retry-After; its request budget is untouched, and the reverse', async () => {
    const partner = await createPartner(api, app.operatorToken, 'Busy checker', 'ops@busy.example');
    for (let i = 0; i < 10; i++) expect((await ask(partner.key)).body).toEqual({ allowed: false });
    const tenBatched = await api.post('/api/v1/access/batch').set(auth(partner.key)).send({ checks: Array.from({ length: 10 }, () => check) });
    expect(tenBatched.status).toBe(200);
    expectRefused(await ask(partner.key));
    expectRefused(await api.post('/api/v1/access/batch').set(auth(partner.key)).send({ checks: [check] }));
    // 5 requests a window for everything else: none of them was spent by the checks.
    for (let i = 0; i < 5; i++) expect((await api.get('/api/v1/relationships').set(auth(partner.key))).status).toBe(200);
    expectProblem(await api.get('/api/v1/relationships').set(auth(partner.key)), 429, 'rateLimited');
    // ...and a partner whose request budget is spent still gets its checks answered.
    const other = await createPartner(api, app.operatorToken, 'Busy writer', 'ops@writer.example');
    for (let i = 0; i < 6; i++) await api.get('/api/v1/relationships').set(auth(other.key));
    expect((await ask(other.key)).body).toEqual({ allowed: false });
  });

  it('an enforcer: 30 checks across partners, then 429; another enforcer and the partners themselves are not affected', async () => {
    const partner = await createPartner(api, app.operatorToken, 'Enforced', 'ops@enforced.example');
    const first = await createEnforcer(api, app.operatorToken, { name: 'Busy executor' });
    const second = await createEnforcer(api, app.operatorToken, { name: 'Quiet executor' });
    const about = { ...check, partner: partner.id };
    const batchOf = (n: number) => api.post('/api/v1/access/batch').set(auth(first.key)).send({ checks: Array.from({ length: n }, () => about) });
    expect((await batchOf(25)).status).toBe(200);
    // A batch larger than what is left is refused whole, leaving the rest to smaller asks.
    expectRefused(await batchOf(6));
    for (let i = 0; i < 5; i++) expect((await ask(first.key, about)).status).toBe(200);
    expectRefused(await ask(first.key, about));
    expect((await ask(second.key, about)).body).toEqual({ allowed: false });
    expect((await ask(partner.key)).body).toEqual({ allowed: false });
  });
});

describe('the access check’s fast path holds the same lines as the rest of the API', () => {
  const { app, api } = useTestApp({ env: { AUTH_FAILURE_LIMIT: '3', AUTH_FAILURE_WINDOW_SECONDS: '3600' } });
  const check = { tenant: 'contoso.example', role: 'user-administrator' };
  const guess = () => `pf_${randomUUID().replace(/-/g, '')}`;

  it('guessed keys from one address: 401 three times, then 429 (single and batch); another address and a live key are still answered', async () => {
    const attacker = '203.0.113.7';
    const partner = await createPartner(api, app.operatorToken, 'Guarded', 'ops@guarded.example');
    for (let i = 0; i < 3; i++) expectProblem(await api.get('/api/v1/access').query(check).set('X-Forwarded-For', attacker).set(auth(guess())), 401, 'unauthorized');
    const refused = await api.get('/api/v1/access').query(check).set('X-Forwarded-For', attacker).set(auth(guess()));
    expectProblem(refused, 429, 'rateLimited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expectProblem(await api.post('/api/v1/access/batch').set('X-Forwarded-For', attacker).set(auth(guess())).send({ checks: [check] }), 429, 'rateLimited');
    // The failures counted on the fast path are the API's one count: the operator routes refuse the address too.
    expectProblem(await api.get('/api/v1/admin/partners').set('X-Forwarded-For', attacker).set(auth(guess())), 429, 'rateLimited');
    expectProblem(await api.get('/api/v1/access').query(check).set('X-Forwarded-For', '203.0.113.8').set(auth(guess())), 401, 'unauthorized');
    expect((await api.get('/api/v1/access').query(check).set('X-Forwarded-For', attacker).set(auth(partner.key))).body).toEqual({ allowed: false });
  });

  it('other spellings of the paths reach Express and the same handler: the same answers and refusals', async () => {
    const partner = await createPartner(api, app.operatorToken, 'Spelled', 'ops@spelled.example');
    for (const path of ['/api/v1/access', '/api/v1/access/', '/API/v1/Access']) {
      const res = await api.get(path).query(check).set(auth(partner.key));
      expect(res.status, path).toBe(200);
      expect(res.headers['cache-control'], path).toBe('no-store');
      expect(res.body, path).toEqual({ allowed: false });
      expectProblem(await api.get(path).query({ ...check, role: 'root' }).set(auth(partner.key)), 400, 'validation');
      expectProblem(await api.get(path).query(check).set(auth(app.operatorToken)), 403, 'forbidden');
      // A name given twice is refused, not half-read.
      expectProblem(await api.get(`${path}?tenant=a.example&tenant=b.example&role=user-administrator`).set(auth(partner.key)), 400, 'validation');
    }
    const batch = await api.post('/api/v1/access/batch/').set(auth(partner.key)).send({ checks: [check] });
    expect(batch.body).toEqual({ results: [{ ...check, allowed: false }] });
    expectProblem(await api.post('/api/v1/access/batch').set(auth(partner.key)).type('json').send('{"checks": ['), 400, 'validation');
    expectProblem(await api.post('/api/v1/access/batch').set(auth(partner.key)).type('json').send(`{"checks":${'['.repeat(40)}${']'.repeat(40)}}`), 400, 'validation');
    expectProblem(await api.post('/api/v1/access/batch').set(auth(partner.key)).type('json').send(JSON.stringify({ checks: [check], pad: 'x'.repeat(40_000) })), 413, 'payloadTooLarge');
  });
});
