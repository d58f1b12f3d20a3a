import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/infra/logger.js';
import { buildTestApp, type TestApp } from '../api/apiHarness.js';

// Logs are read by more people and kept longer than the data they describe, so
// no credential and no link token may reach them: not from a failing customer
// page (its path holds the token), not from an error message quoting a URL,
// not from an object someone logs whole.

/** A pino destination that keeps every line, to read exactly what would have been written. */
function captured() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}

const token = () => randomBytes(32).toString('base64url');

describe('log redaction', () => {
  describe('a customer page fails while its path holds a link token', () => {
    const logs = captured();
    const DB_PASSWORD = `db-pw-${randomBytes(6).toString('hex')}`;
    let system: TestApp;
    const tokens = { invitation: token(), signIn: token(), verify: token(), confirm: token() };

    beforeAll(async () => {
      // Postgres unreachable: every page that looks its token up fails on our side.
      system = await buildTestApp({
        databaseUrl: `postgresql://postgres:${DB_PASSWORD}@127.0.0.1:1/none`,
        env: { LOG_LEVEL: 'debug' },
        logDestination: logs.destination,
      });
    });
    afterAll(async () => {
      await system?.close();
    });

    it('logs the failure and the request with the token replaced', async () => {
      const api = request(system.app);
      const pages = [
        `/invitations/${tokens.invitation}`,
        `/sign-in/${tokens.signIn}`,
        `/tenants/verify/${tokens.verify}`,
        `/tenant-admins/confirm/${tokens.confirm}`,
      ];
      for (const path of pages) {
        const res = await api.get(path).set('Accept', 'text/html');
        expect(res.status, path).toBeGreaterThanOrEqual(500);
        expect(res.text).not.toContain(DB_PASSWORD);
      }
      const posted = await api.post(`/invitations/${tokens.invitation}`).type('form').send({ answer: 'yes' });
      expect(posted.status).toBeGreaterThanOrEqual(400);

      const entries = logs.lines.map((line) => JSON.parse(line) as { event?: string; path?: string; err?: unknown });
      // Not vacuous: the failures and the requests were logged, each with its path.
      expect(entries.some((e) => e.event === 'page.error' && e.path === '/invitations/[token]' && e.err !== undefined)).toBe(true);
      for (const prefix of ['/invitations/', '/sign-in/', '/tenants/verify/', '/tenant-admins/confirm/']) {
        expect(entries.some((e) => e.event === 'http.request' && e.path === `${prefix}[token]`), prefix).toBe(true);
      }
      const all = logs.lines.join('');
      for (const raw of Object.values(tokens)) expect(all).not.toContain(raw);
      expect(all).not.toContain(DB_PASSWORD);
    });
  });

  it('replaces credentials wherever an object carries them', () => {
    const logs = captured();
    const log = createLogger({ level: 'info', pretty: false, destination: logs.destination });
    const secrets = {
      apiKey: `pf_${token()}`,
      token: token(),
      password: token(),
      cookie: `pf_session=${token()}`,
      authorization: `Bearer ${token()}`,
      headersCookie: `pf_session=${token()}`,
      headersAuthorization: `Basic ${token()}`,
      setCookie: `pf_session=${token()}`,
      nested: token(),
      webhookSecret: token(),
    };
    log.info({
      apiKey: secrets.apiKey,
      token: secrets.token,
      password: secrets.password,
      cookie: secrets.cookie,
      authorization: secrets.authorization,
      headers: { cookie: secrets.headersCookie, authorization: secrets.headersAuthorization },
      res: { headers: { 'set-cookie': secrets.setCookie } },
      partner: { settings: { webhookSecret: secrets.webhookSecret, delivery: { secret: secrets.nested } } },
    });
    const line = logs.lines.join('');
    for (const value of Object.values(secrets)) expect(line).not.toContain(value);
    const entry = JSON.parse(line) as Record<string, unknown>;
    expect(entry).toMatchObject({
      apiKey: '[Redacted]',
      token: '[Redacted]',
      password: '[Redacted]',
      cookie: '[Redacted]',
      authorization: '[Redacted]',
      headers: { cookie: '[Redacted]', authorization: '[Redacted]' },
      res: { headers: { 'set-cookie': '[Redacted]' } },
      partner: { settings: { webhookSecret: '[Redacted]', delivery: { secret: '[Redacted]' } } },
    });
  });

  it('scrubs tokens and passwords from error messages, paths, URLs and the message itself', () => {
    const logs = captured();
    const log = createLogger({ level: 'info', pretty: false, destination: logs.destination });
    const link = token();
    const key = `pf_${token()}`;
    const password = token();
    log.error(
      {
        err: new Error(`fetch http://127.0.0.1:3000/tenant-admins/confirm/${link} failed with Authorization: Bearer ${key}`),
        url: `smtps://mailer:${password}@relay.example.com:465`,
        path: `/invitations/${link}/forward`,
      },
      `while answering GET /sign-in/${link}?token=${link}`,
    );
    const line = logs.lines.join('');
    for (const value of [link, key, password]) expect(line).not.toContain(value);
    const entry = JSON.parse(line) as { err: { message: string }; url: string; path: string; msg: string };
    expect(entry.path).toBe('/invitations/[token]/forward');
    expect(entry.url).toBe('smtps://mailer:[Redacted]@relay.example.com:465');
    expect(entry.err.message).toContain('/tenant-admins/confirm/[token]');
    expect(entry.msg).toBe('while answering GET /sign-in/[token]?token=[Redacted]');
  });
});
