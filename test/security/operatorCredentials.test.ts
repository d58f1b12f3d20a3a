import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { problemSchema } from '../../src/apiDocs/responseSchemas.js';
import { expectShape } from '../api/apiHarness.js';
import { useTestApp } from '../support/useTestApp.js';

// Guessing the operator token or a partner key, and the secrets earlier
// versions shipped, against the API as a deployment runs it (real Redis,
// Postgres, Temporal). The app trusts X-Forwarded-For from loopback only
// ('trust proxy' = loopback), which is how these tests act as several clients.

const PUBLISHED_OPERATOR_TOKEN = 'dev-operator-token-change-me';
const PUBLISHED_SESSION_SECRET = 'dev-session-secret-change-me-0123456789abcdef';
const LIMIT = 20;

const bearer = (token: string) => `Bearer ${token}`;
const basic = (password: string) => `Basic ${Buffer.from(`ops:${password}`).toString('base64')}`;

/** A cookie-parser signed cookie value ("s:" + value + "." + HMAC-SHA256), as the old default secret would sign it. */
const signedWith = (secret: string, value: string) => `s:${value}.${createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '')}`;

describe('operator and partner credentials', () => {
  const { app: system, api } = useTestApp();
  let client = 0;
  /** A client address of its own for each test, so counts never leak between tests. */
  const newClient = () => `203.0.113.${++client}`;

  it('the published development operator token is 401 everywhere the operator token opens', async () => {
    const from = newClient();
    const partners = await api.get('/api/v1/admin/partners').set('X-Forwarded-For', from).set('Authorization', bearer(PUBLISHED_OPERATOR_TOKEN));
    expect(partners.status).toBe(401);
    expect((await api.get('/metrics').set('X-Forwarded-For', from).set('Authorization', bearer(PUBLISHED_OPERATOR_TOKEN))).status).toBe(401);
    expect((await api.get('/admin/queues').set('X-Forwarded-For', from).set('Authorization', basic(PUBLISHED_OPERATOR_TOKEN))).status).toBe(401);
    // The real token works from the same client (three failures are far below the limit).
    expect((await api.get('/api/v1/admin/partners').set('X-Forwarded-For', from).set('Authorization', bearer(system.operatorToken))).status).toBe(200);
  });

  it('a session cookie signed with the published development secret is no session', async () => {
    const anonymous = await api.get('/partner-relationships');
    for (const value of ['forged-session-id', JSON.stringify({ tenant: 'victim.example.com', email: 'admin@victim.example.com', csrf: 'x' })]) {
      const forged = await api.get('/partner-relationships').set('Cookie', `pf_session=${encodeURIComponent(signedWith(PUBLISHED_SESSION_SECRET, value))}`);
      expect(forged.status).toBe(anonymous.status);
      expect(forged.text).toBe(anonymous.text);
    }
  });

  it(`after ${LIMIT} wrong keys or tokens, the right operator token from that address is 429; another address is unaffected`, async () => {
    const attacker = newClient();
    const bystander = newClient();
    for (let i = 0; i < LIMIT; i++) {
      const guess = i % 2 === 0 ? `pf_guess${i}aaaaaaaaaaaaaaaaaaaaaaaa` : `operator-guess-${i}-bbbbbbbbbbbb`;
      const res = await api.get('/api/v1/relationships').set('X-Forwarded-For', attacker).set('Authorization', bearer(guess));
      expect(res.status).toBe(401);
    }
    const refused = await api.get('/api/v1/admin/partners').set('X-Forwarded-For', attacker).set('Authorization', bearer(system.operatorToken));
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(expectShape(problemSchema, refused.body).type).toBe('/problems/rateLimited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Every door the operator token opens is shut to that address, the dashboard's Basic auth too.
    expect((await api.get('/metrics').set('X-Forwarded-For', attacker).set('Authorization', bearer(system.operatorToken))).status).toBe(429);
    const dashboard = await api.get('/admin/queues').set('X-Forwarded-For', attacker).set('Authorization', basic(system.operatorToken));
    expect(dashboard.status).toBe(429);
    expect(Number(dashboard.headers['retry-after'])).toBeGreaterThan(0);

    const other = await api.get('/api/v1/admin/partners').set('X-Forwarded-For', bystander).set('Authorization', bearer(system.operatorToken));
    expect(other.status).toBe(200);
    expect((await api.get('/api/v1/admin/partners').set('X-Forwarded-For', bystander).set('Authorization', bearer('operator-wrong-cccccccccc'))).status).toBe(401);
  });

  it('wrong passwords on the queue dashboard count the same way', async () => {
    const attacker = newClient();
    // A browser's first request carries no credentials: it is asked for them, and that is no failure.
    expect((await api.get('/admin/queues').set('X-Forwarded-For', attacker)).status).toBe(401);
    for (let i = 0; i < LIMIT; i++) {
      expect((await api.get('/admin/queues').set('X-Forwarded-For', attacker).set('Authorization', basic(`guess-${i}`))).status).toBe(401);
    }
    expect((await api.get('/admin/queues').set('X-Forwarded-For', attacker).set('Authorization', basic(system.operatorToken))).status).toBe(429);
    expect((await api.get('/api/v1/admin/partners').set('X-Forwarded-For', attacker).set('Authorization', bearer(system.operatorToken))).status).toBe(429);
  });

  it('successful calls and calls without credentials do not count', async () => {
    const busy = newClient();
    for (let i = 0; i < LIMIT + 5; i++) {
      expect((await api.get('/api/v1/admin/partners').set('X-Forwarded-For', busy).set('Authorization', bearer(system.operatorToken))).status).toBe(200);
      expect((await api.get('/api/v1/admin/partners').set('X-Forwarded-For', busy)).status).toBe(401);
    }
    expect((await api.get('/api/v1/admin/partners').set('X-Forwarded-For', busy).set('Authorization', bearer('operator-wrong-dddddddddd'))).status).toBe(401);
    expect((await api.get('/api/v1/admin/partners').set('X-Forwarded-For', busy).set('Authorization', bearer(system.operatorToken))).status).toBe(200);
  });

  it('/readyz and /metrics need the operator token; /healthz stays open', async () => {
    const from = newClient();
    for (const path of ['/readyz', '/metrics']) {
      const missing = await api.get(path).set('X-Forwarded-For', from);
      expect(missing.status).toBe(401);
      expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(missing.text).not.toContain('partnerflow_');
      expect((await api.get(path).set('X-Forwarded-For', from).set('Authorization', bearer('not-the-operator-token'))).status).toBe(401);
      expect((await api.get(path).set('X-Forwarded-For', from).set('Authorization', bearer(system.operatorToken))).status).toBe(200);
    }
    expect((await api.get('/healthz')).status).toBe(200);
  });
});
