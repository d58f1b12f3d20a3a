import { randomUUID } from 'node:crypto';
import express from 'express';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { relationshipWorkflowId } from '../../src/contract/relationship.js';
import { bearerAuth, type AuthenticateKey } from '../../src/http/auth.js';
import { createAuthFailures, withAuthFailureLimit } from '../../src/http/authFailures.js';
import { problemJsonHandler } from '../../src/http/errors.js';
import { createLeasedRateLimit } from '../../src/http/leasedRateLimit.js';
import { createRateLimit } from '../../src/http/rateLimits.js';
import { useSuiteResource } from '../support/suiteResource.js';
import { useTestApp } from '../support/useTestApp.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { waitFor } from '../support/waitFor.js';
import { expectProblem, idOf, startPrivateRedis, uniqueDomain } from './apiHarness.js';
import { auth, createPartner, supertestOf } from './customerFlow.js';

// The per-partner rate limit and pending-invitation cap (small here, through
// the same environment variables production uses), and what the API does
// when its Redis is gone.

const RATE_POINTS = 25;
const MAX_PENDING = 2;

const offerFor = (tenantDomain: string) => ({
  customer: { tenantDomain, adminEmail: `admin@${tenantDomain}` },
  roles: ['reports-reader'],
  invitationTtl: '1h',
});

/** Counts the commands sent on `redis` (MULTI/EXEC and what they wrap each count) until `stop()`. */
function countCommands(redis: Redis): { sent: string[]; stop(): void } {
  const sent: string[] = [];
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
    sent.push(args[0].name);
    return send(...args);
  };
  // The method is the prototype's: dropping the instance's own brings it back.
  return { sent, stop: () => void Reflect.deleteProperty(redis, 'sendCommand') };
}

describe('limits', () => {
  const system = useTestSystem('limits', {
    env: {
      PARTNER_RATE_LIMIT_POINTS: String(RATE_POINTS),
      PARTNER_RATE_LIMIT_WINDOW_SECONDS: '60',
      PARTNER_MAX_PENDING_INVITATIONS: String(MAX_PENDING),
      SIGN_IN_EMAILS_PER_HOUR: '2',
    },
  });
  const api = supertestOf(system);
  const newPartnerKey = (name: string) => createPartner(api, system.operatorToken, name, 'ops@limits.example');

  it('a partner over its request rate gets 429 with Retry-After; other partners and the operator do not', async () => {
    const a = await newPartnerKey('Rate A');
    const b = await newPartnerKey('Rate B');
    for (let i = 0; i < RATE_POINTS; i++) {
      const res = await api.get('/api/v1/relationships').set(auth(a.key));
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-remaining']).toBe(String(RATE_POINTS - i - 1));
    }
    const limited = await api.get('/api/v1/relationships').set(auth(a.key));
    expectProblem(limited, 429, 'rateLimited');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Every call counts, writes too, and a refused one changes nothing.
    const before = await system.db.relationship.count({ where: { partnerId: a.id } });
    expectProblem(await api.post('/api/v1/relationships').set(auth(a.key)).send(offerFor(uniqueDomain('rate'))), 429, 'rateLimited');
    expect(await system.db.relationship.count({ where: { partnerId: a.id } })).toBe(before);

    expect((await api.get('/api/v1/relationships').set(auth(b.key))).status).toBe(200);
    for (let i = 0; i < RATE_POINTS + 2; i++) expect((await api.get('/api/v1/relationships').set(auth(system.operatorToken))).status).toBe(200);
  });

  it('pending invitations are capped per partner, also under concurrent offers, and the cap frees when one is withdrawn', async () => {
    const partner = await newPartnerKey('Cap');
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => api.post('/api/v1/relationships').set(auth(partner.key)).send(offerFor(uniqueDomain('cap')))),
    );
    const created = answers.filter((r) => r.status === 201);
    expect(created).toHaveLength(MAX_PENDING);
    for (const refused of answers.filter((r) => r.status !== 201)) {
      expectProblem(refused, 429, 'pendingInvitationLimit');
      // Retry-After is when the earliest pending invitation expires (invitationTtl 1h).
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(3500);
      expect(retryAfter).toBeLessThanOrEqual(3600);
      expect(refused.body).toMatchObject({ limit: MAX_PENDING, pending: MAX_PENDING });
    }
    expect(await system.db.relationship.count({ where: { partnerId: partner.id } })).toBe(MAX_PENDING);

    const withdrawn = await api.post(`/api/v1/relationships/${idOf(created[0])}/withdraw`).set(auth(partner.key)).send({});
    expect(withdrawn.status).toBe(200);
    // The read model follows the workflow a moment later; then there is room for one more.
    await waitFor(async () => (await system.db.relationship.findUniqueOrThrow({ where: { id: idOf(created[0]) } })).status === 'withdrawn', {
      what: 'withdrawn in the read model',
    });
    expect((await api.post('/api/v1/relationships').set(auth(partner.key)).send(offerFor(uniqueDomain('cap')))).status).toBe(201);
    expectProblem(await api.post('/api/v1/relationships').set(auth(partner.key)).send(offerFor(uniqueDomain('cap'))), 429, 'pendingInvitationLimit');
  });

  it('sign-in asks are not limited per organisation (anyone could lock its admin out); limits are per client, see signIn.test.ts', async () => {
    const tenantDomain = uniqueDomain('signin');
    for (let i = 0; i < 5; i++) {
      const res = await api.post('/sign-in').set('X-Forwarded-For', `198.51.100.${i + 1}`).type('form').send({ tenantDomain, email: `admin@${tenantDomain}` });
      expect(res.status).toBe(200);
    }
  });
});

describe('Redis round trips of a partner request (issue 13)', () => {
  // A budget large enough that its first lease (200 points) covers the calls measured, and a
  // window so long (30 days, aligned to the clock) that it does not end while they run.
  const { app, api } = useTestApp({ env: { PARTNER_RATE_LIMIT_POINTS: '10000', PARTNER_RATE_LIMIT_WINDOW_SECONDS: String(30 * 86_400) } });

  it('a successful partner GET sends no Redis command once the first lease is taken; RateLimit-Remaining still counts down', async () => {
    const partner = await createPartner(api, app.operatorToken, 'Lean', 'ops@lean.example');
    const first = await api.get('/api/v1/relationships').set(auth(partner.key));
    expect(first.status).toBe(200);
    expect(first.headers['ratelimit-remaining']).toBe('9999');
    const counted = countCommands(app.redis);
    try {
      for (let i = 0; i < 50; i++) {
        const res = await api.get('/api/v1/relationships').set(auth(partner.key));
        expect(res.status).toBe(200);
        expect(res.headers['ratelimit-remaining']).toBe(String(10_000 - i - 2));
        expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
      }
    } finally {
      counted.stop();
    }
    expect(counted.sent).toEqual([]);
  });
});

describe('the partner budget across API processes', () => {
  const redis = useSuiteResource('a Redis client', async () => {
    const client = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
    await client.ping();
    return client;
  }, (client) => client.quit().then(() => undefined));

  it('RateLimit-Remaining counts the points other processes leased as spent: never more than is left', async () => {
    const options = { redis, keyPrefix: `test:partner-budget:${randomUUID()}`, points: 100, windowSeconds: 3600, counts: 'requests', lease: 10 };
    const [a, b] = [createLeasedRateLimit(options), createLeasedRateLimit(options)];
    await a.take('p', 1);
    expect(a.standing('p').remaining).toBe(99);
    await b.take('p', 1);
    // B knows A holds a lease of 10 (9 unspent): 100 - 1 - 10; the true rest is 98.
    expect(b.standing('p').remaining).toBe(89);
    // Spent to the end between the two, each one's last answer is within what the other left it.
    let granted = 2;
    for (let i = 0; i < 200; i++) {
      const limit = i % 2 ? a : b;
      try {
        await limit.take('p', 1);
        granted++;
        expect(limit.standing('p').remaining).toBeLessThanOrEqual(100 - granted + 10);
      } catch {
        expect(limit.standing('p').remaining).toBe(0);
      }
    }
    expect(granted).toBeLessThanOrEqual(100);
    expect(a.standing('p').remaining + b.standing('p').remaining).toBe(0);
  });
});

describe('failed authentications across API processes', () => {
  const LIMIT = 3;
  const redis = useSuiteResource('a Redis client', async () => {
    // Ready before the first count, or createRateLimit would count in memory (its Redis-down fallback).
    const client = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
    await client.ping();
    return client;
  }, (client) => client.quit().then(() => undefined));
  const GOOD_KEY = 'pf_the-right-key';

  /** One API process's bearer check behind the failure limit, on one shared count; `looked` lists the keys it looked up. */
  function apiProcess(keyPrefix: string) {
    const looked: string[] = [];
    const authenticateKey: AuthenticateKey = (key) => {
      looked.push(key);
      return Promise.resolve(key === GOOD_KEY ? { kind: 'partner', partnerId: 'p', partnerName: 'P', pausedAt: null, provisioner: 'local' } : null);
    };
    const failures = createAuthFailures(createRateLimit({ redis, keyPrefix, points: LIMIT, windowSeconds: 3600, counts: 'failed authentications from one address' }));
    const app = express();
    app.use(withAuthFailureLimit(bearerAuth(authenticateKey, 'operator-token-not-used-here'), failures));
    app.get('/', (_req, res) => void res.json({ ok: true }));
    app.use(problemJsonHandler(pino({ level: 'silent' })));
    const api = request(app);
    return { looked, ask: (from: string, key: string) => api.get('/').set('X-Forwarded-For', from).set(auth(key)) };
  }

  it(`guesses spread over two processes: at most ${LIMIT} + 1 reach a key lookup, then 429 everywhere; a good key elsewhere costs no Redis command`, async () => {
    const prefix = `test:authfail:${randomUUID()}`;
    const processes = [apiProcess(prefix), apiProcess(prefix)] as const;
    const attacker = '203.0.113.21';
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await processes[i % 2 ? 1 : 0].ask(attacker, `pf_guess-${i}`)).status);
    const lookups = processes[0].looked.length + processes[1].looked.length;
    // The limit, plus at most one guess per other process (the one that tells it the address is blocked).
    expect(lookups).toBeGreaterThanOrEqual(LIMIT);
    expect(lookups).toBeLessThanOrEqual(LIMIT + processes.length - 1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(lookups);
    expect(statuses.slice(lookups).every((s) => s === 429)).toBe(true);

    // Each process now refuses the attacker from memory, and lets everyone else in without asking Redis.
    const counted = countCommands(redis);
    try {
      for (const process of processes) {
        expect((await process.ask(attacker, GOOD_KEY)).status).toBe(429);
        expect((await process.ask('203.0.113.22', GOOD_KEY)).status).toBe(200);
      }
    } finally {
      counted.stop();
    }
    expect(counted.sent).toEqual([]);
  });

  it('the process that saw an address use up its failures refuses it before looking at the key it sends, the right one included', async () => {
    const one = apiProcess(`test:authfail:${randomUUID()}`);
    const attacker = '203.0.113.31';
    for (let i = 0; i < LIMIT; i++) expectProblem(await one.ask(attacker, `pf_guess-${i}`), 401, 'unauthorized');
    const refused = await one.ask(attacker, GOOD_KEY);
    expectProblem(refused, 429, 'rateLimited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3500);
    expect(one.looked).not.toContain(GOOD_KEY);
    expect(one.looked).toHaveLength(LIMIT);
  });
});

describe('with Redis down', () => {
  const redis = useSuiteResource('the private Redis', startPrivateRedis, (started) => started.stop());
  const { app, api } = useTestApp(() => ({ redisUrl: redis.url }));
  let partnerKey: string;
  let partnerId: string;
  let relationshipId: string;
  let tenantDomain: string;

  beforeAll(async () => {
    ({ key: partnerKey, id: partnerId } = await createPartner(api, app.operatorToken, 'Redisless', 'ops@redisless.example'));
    tenantDomain = uniqueDomain('redisless');
    const registered = await api.put(`/api/v1/admin/tenants/${tenantDomain}`).set(auth(app.operatorToken)).send({ name: 'Redisless', admins: [`admin@${tenantDomain}`] });
    expect(registered.status).toBe(201);
    const created = await api.post('/api/v1/relationships').set(auth(partnerKey)).send(offerFor(tenantDomain));
    expect(created.status).toBe(201);
    relationshipId = idOf(created);
    await redis.stop();
  });
  afterAll(async () => {
    // No worker polls this app's task queue; end the workflow it started.
    if (relationshipId) await app.temporal.workflow.getHandle(relationshipWorkflowId(relationshipId)).terminate('test cleanup').catch(() => undefined);
  });

  it('calls that need Redis answer 503 quickly with Retry-After and change nothing; a plain offer needs none', async () => {
    const before = await app.db.relationship.count({ where: { partnerId } });
    const newTenant = uniqueDomain('down');
    for (const call of [
      () => api.post('/api/v1/relationships').set(auth(partnerKey)).set('Idempotency-Key', 'k1').send(offerFor(uniqueDomain('down'))),
      () => api.post(`/api/v1/relationships/${relationshipId}/withdraw`).set(auth(partnerKey)).set('Idempotency-Key', 'k2').send({}),
      () => api.post('/api/v1/admin/partners').set(auth(app.operatorToken)).set('Idempotency-Key', 'k3').send({ name: 'X', contactEmail: 'x@x.example' }),
    ]) {
      const started = Date.now();
      const res = await call();
      expect(Date.now() - started).toBeLessThan(2_000);
      expectProblem(res, 503, 'unavailable');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(await app.db.relationship.count({ where: { partnerId } })).toBe(before);
    expect(await app.db.tenant.count({ where: { domain: newTenant } })).toBe(0);
    expect((await app.db.relationship.findUniqueOrThrow({ where: { id: relationshipId } })).status).toBe('invited');
    expect(await app.db.partner.count({ where: { name: 'X', contactEmail: 'x@x.example' } })).toBe(0);

    // An offer without an Idempotency-Key needs no Redis: its limits (pending invitations, mail
    // quota) are on the partner's row in Postgres, and its email waits in the outbox.
    const taken = await api.post('/api/v1/relationships').set(auth(partnerKey)).send(offerFor(newTenant));
    expect(taken.status, taken.text).toBe(201);
    expect(await app.db.partner.findUniqueOrThrow({ where: { id: partnerId } })).toMatchObject({ pendingInvitations: before + 1 });
    // No worker polls this app's task queue.
    await app.temporal.workflow.getHandle(relationshipWorkflowId(idOf(taken))).terminate('test cleanup');
  });

  it('the sign-in page says to try again (503), quickly', async () => {
    const started = Date.now();
    const res = await api.post('/sign-in').type('form').send({ tenantDomain, email: `admin@${tenantDomain}` });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res.status).toBe(503);
    expect(res.text).toContain('Please try again in a moment');
  });

  it('reads and the access check keep working (the rate limit falls back to memory)', async () => {
    const one = await api.get(`/api/v1/relationships/${relationshipId}`).set(auth(partnerKey));
    expect(one.status).toBe(200);
    expect(one.headers['ratelimit-limit']).toBeDefined();
    expect((await api.get('/api/v1/access').query({ tenant: tenantDomain, role: 'reports-reader' }).set(auth(partnerKey))).body).toEqual({ allowed: false });
  });

  it('/readyz reports Redis down and the others up', async () => {
    const res = await api.get('/readyz').set(auth(app.operatorToken));
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'not ready', checks: { redis: { ok: false }, postgres: { ok: true }, temporal: { ok: true } } });
  });
});
