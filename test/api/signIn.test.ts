import pg from 'pg';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createSignInLinks } from '../../src/customerPages/signInLinks.js';
import { createTenantDirectory } from '../../src/tenants/tenantDirectory.js';
import { mailSubjects, mailsTo } from '../support/tenantDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { waitFor } from '../support/waitFor.js';
import { uniqueDomain } from './apiHarness.js';
import { csrfIn, supertestOf } from './customerFlow.js';

// Sign-in that scanners and attackers cannot spoil (issue 10, item 4): the
// emailed link's GET uses nothing; attempts count per client, so another
// client cannot lock the admin out; the answer does not depend on the
// address; sessions live on the server and end on sign-out and on removal.
// Clients are told apart by X-Forwarded-For, which the app trusts from
// loopback (as from a reverse proxy on the same host).

const ATTEMPTS_PER_CLIENT = 30;

describe('sign-in', () => {
  const system = useTestSystem('sign-in', { env: { SIGN_IN_ATTEMPTS_PER_CLIENT: String(ATTEMPTS_PER_CLIENT), SIGN_IN_EMAILS_PER_HOUR: '10' } });
  const api = supertestOf(system);
  let clientSeq = 0;
  /** A client address of its own (TEST-NET-3), so one test's attempts never count against another's. */
  const newClient = () => `203.0.113.${++clientSeq}`;

  async function registerTenant(admins: string[]) {
    const tenantDomain = uniqueDomain('signin');
    const res = await api.put(`/api/v1/admin/tenants/${tenantDomain}`).set('Authorization', `Bearer ${system.operatorToken}`).send({ name: 'Contoso', admins: admins.map((a) => `${a}@${tenantDomain}`) });
    expect(res.status).toBe(201);
    return tenantDomain;
  }
  const ask = (client: string, tenantDomain: string, email: string) => api.post('/sign-in').set('X-Forwarded-For', client).type('form').send({ tenantDomain, email });

  /** Asks as `client` and returns the path of the link the newest sign-in email to `email` carries. */
  async function linkFor(client: string, tenantDomain: string, email: string): Promise<string> {
    const before = mailsTo(system, email, mailSubjects.signIn).length;
    expect((await ask(client, tenantDomain, email)).status).toBe(200);
    const mail = await waitFor(() => mailsTo(system, email, mailSubjects.signIn)[before], { what: `a sign-in email to ${email}` });
    const match = /https?:\/\/[^\s"<>]+(\/sign-in\/[A-Za-z0-9_-]+)/.exec(mail.parsed.text ?? '');
    if (!match?.[1]) throw new Error('no sign-in link in the email');
    return match[1];
  }

  /** A browser of its own: GET the link (the confirmation), then press its button. */
  async function signInWith(path: string, client = newClient()) {
    const agent = request.agent(system.baseUrl);
    expect((await agent.get(path).set('X-Forwarded-For', client)).status).toBe(200);
    const used = await agent.post(path).set('X-Forwarded-For', client).type('form').send({});
    expect(used.status).toBe(303);
    const cookie = (used.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('pf_session='))?.split(';')[0] ?? '';
    return { agent, cookie };
  }
  const signedInWith = async (cookie: string) => !(await api.get('/partner-relationships').set('Cookie', cookie)).text.includes('Email me a sign-in link');

  describe('a link scanner', () => {
    it('GETs of the link (a prefetch, twice) use nothing; the POST signs in; a second POST is refused', async () => {
      const tenantDomain = await registerTenant(['admin']);
      const email = `admin@${tenantDomain}`;
      const path = await linkFor(newClient(), tenantDomain, email);

      const scanner = newClient();
      for (let i = 0; i < 2; i++) {
        const page = await api.get(path).set('X-Forwarded-For', scanner);
        expect(page.status).toBe(200);
        expect(page.headers['cache-control']).toBe('no-store');
        expect(page.headers['set-cookie']).toBeUndefined();
        expect(page.text).toContain(`<button type="submit">Sign in as ${email} to Contoso</button>`);
        expect(page.text).toContain('<form method="post">');
      }
      expect((await system.db.signInToken.findFirstOrThrow({ where: { tenantDomain, email } })).usedAt).toBeNull();

      const { agent } = await signInWith(path);
      expect((await agent.get('/partner-relationships')).text).toContain(`Partners with delegated admin access to ${tenantDomain}`);

      const again = await api.post(path).type('form').send({});
      expect(again.status).toBe(410);
      expect(again.text).toContain('expired or was already used');
      expect(again.headers['set-cookie']).toBeUndefined();
      expect((await api.get(path)).status).toBe(410);
    });
  });

  describe('an attacker cannot lock the admin out', () => {
    it('50 asks from client A with wrong addresses: A gets 429, the admin on client B still gets a link and signs in', async () => {
      const tenantDomain = await registerTenant(['admin']);
      const attacker = newClient();
      const statuses: number[] = [];
      for (let i = 0; i < 50; i++) statuses.push((await ask(attacker, tenantDomain, `guess${i}@${tenantDomain}`)).status);
      expect(statuses.slice(0, ATTEMPTS_PER_CLIENT).every((s) => s === 200)).toBe(true);
      expect(statuses.slice(ATTEMPTS_PER_CLIENT).every((s) => s === 429)).toBe(true);
      const limited = await ask(attacker, tenantDomain, `admin@${tenantDomain}`);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

      const path = await linkFor(newClient(), tenantDomain, `admin@${tenantDomain}`);
      await signInWith(path);
    });

    it('a flood of failed link uses from client A: 429 for A only; client B signs in with a good link', async () => {
      const tenantDomain = await registerTenant(['admin']);
      const path = await linkFor(newClient(), tenantDomain, `admin@${tenantDomain}`);
      const attacker = newClient();
      const answers: number[] = [];
      for (let i = 0; i < ATTEMPTS_PER_CLIENT + 5; i++) {
        const bogus = `/sign-in/guess${i}${'B'.repeat(37)}`;
        const res = i % 2 ? await api.get(bogus).set('X-Forwarded-For', attacker) : await api.post(bogus).set('X-Forwarded-For', attacker).type('form').send({});
        answers.push(res.status);
      }
      expect(answers.slice(0, ATTEMPTS_PER_CLIENT).every((s) => s === 410)).toBe(true);
      expect(answers.slice(ATTEMPTS_PER_CLIENT).every((s) => s === 429)).toBe(true);
      // Even a good link is refused to A while A is blocked, and that leaves it usable.
      expect((await api.get(path).set('X-Forwarded-For', attacker)).status).toBe(429);
      expect((await api.post(path).set('X-Forwarded-For', attacker).type('form').send({})).status).toBe(429);
      expect((await system.db.signInToken.findFirstOrThrow({ where: { tenantDomain } })).usedAt).toBeNull();
      await signInWith(path);
    });

    it('asks for the admin’s own address do not mail-bomb it: one email, the same answer, and the link in it works', async () => {
      const tenantDomain = await registerTenant(['admin']);
      const email = `admin@${tenantDomain}`;
      const path = await linkFor(newClient(), tenantDomain, email);
      const first = await ask(newClient(), tenantDomain, email);
      for (let i = 0; i < 5; i++) expect((await ask(newClient(), tenantDomain, email)).text).toBe(first.text);
      // The same decision, made directly and all at once: exactly one link, the rest are told one stands.
      const links = createSignInLinks({
        db: system.db,
        tenants: createTenantDirectory(system.db, system.config.LINK_SECRET),
        mail: system.mail,
        linkSecret: system.config.LINK_SECRET,
        log: system.log,
        emailsPerHour: 10,
      });
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => links.sendIfAdmin(tenantDomain, email)));
      expect(outcomes.every((o) => o === 'recentLinkStands')).toBe(true);
      expect(await system.db.signInToken.count({ where: { tenantDomain, email } })).toBe(1);
      expect(await system.db.emailMessage.count({ where: { toAddress: email, template: 'signIn' } })).toBe(1);
      await signInWith(path);
      // Once that link is used, the admin's next ask sends a new one.
      expect(await links.sendIfAdmin(tenantDomain, email)).toBe('sent');
      const burst = await Promise.all(Array.from({ length: 8 }, () => links.sendIfAdmin(tenantDomain, `nobody@${tenantDomain}`)));
      expect(burst.every((o) => o === 'notAdmin')).toBe(true);
    });
  });

  describe('the same answer for every address', () => {
    it('the page is byte-identical for an admin, a non-admin and an unregistered domain', async () => {
      const tenantDomain = await registerTenant(['admin']);
      const answers = await Promise.all(
        [`admin@${tenantDomain}`, `nobody@${tenantDomain}`].map((email) => ask(newClient(), tenantDomain, email)),
      );
      const unregistered = uniqueDomain('nobody');
      answers.push(await ask(newClient(), unregistered, `admin@${unregistered}`));
      for (const res of answers) {
        expect(res.status).toBe(200);
        expect(res.text).toBe(answers[0]?.text);
        expect(res.headers['set-cookie']).toBeUndefined();
      }
      await waitFor(() => mailsTo(system, `admin@${tenantDomain}`, mailSubjects.signIn).length === 1, { what: 'the admin’s link' });
    });

    it('nothing on the request path depends on the address: with sign-in link writes held up, an admin’s ask answers at once', async () => {
      const tenantDomain = await registerTenant(['admin']);
      const email = `admin@${tenantDomain}`;
      // Another session holds a lock that blocks INSERTs into sign_in_tokens (reads still pass).
      const blocker = new pg.Client({ connectionString: system.config.DATABASE_URL });
      await blocker.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query('LOCK TABLE sign_in_tokens IN SHARE ROW EXCLUSIVE MODE');
        for (const address of [email, `nobody@${tenantDomain}`]) {
          const res = await ask(newClient(), tenantDomain, address).timeout(3_000);
          expect(res.status).toBe(200);
        }
        expect(mailsTo(system, email, mailSubjects.signIn)).toHaveLength(0);
      } finally {
        await blocker.query('COMMIT');
        await blocker.end();
      }
      // The link is made once the lock is gone: the work happened after the answer.
      await waitFor(() => mailsTo(system, email, mailSubjects.signIn).length === 1, { what: 'the admin’s link after the lock' });
    });

    it('takes as long for an admin as for an unknown address (medians of 20 asks each)', async () => {
      const tenantDomain = await registerTenant(['admin']);
      const timed = async (email: string) => {
        const started = process.hrtime.bigint();
        const res = await ask(newClient(), tenantDomain, email);
        expect(res.status).toBe(200);
        return Number(process.hrtime.bigint() - started) / 1e6;
      };
      const admin: number[] = [];
      const unknown: number[] = [];
      // Interleaved, so load from anything else on the machine falls on both alike.
      for (let i = 0; i < 20; i++) {
        admin.push(await timed(`admin@${tenantDomain}`));
        unknown.push(await timed(`unknown${i}@${tenantDomain}`));
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
      const [a, u] = [median(admin), median(unknown)];
      expect(Math.abs(a - u) <= 25 || Math.max(a, u) <= 2 * Math.min(a, u), `medians: admin ${a} ms, unknown ${u} ms`).toBe(true);
    });
  });

  describe('sessions on the server', () => {
    it('sign-out ends the session on the server: the old cookie, replayed, is signed out', async () => {
      const tenantDomain = await registerTenant(['admin']);
      const { agent, cookie } = await signInWith(await linkFor(newClient(), tenantDomain, `admin@${tenantDomain}`));
      expect(await signedInWith(cookie)).toBe(true);
      // The cookie holds a random id only; the table holds its hash.
      const id = decodeURIComponent(cookie.split('=')[1] ?? '').replace(/^s:/, '').split('.')[0] ?? '';
      const row = await system.db.customerSession.findFirstOrThrow({ where: { tenantDomain } });
      expect(row.tokenHash).not.toContain(id);
      expect(JSON.stringify(row)).not.toContain(id);

      const list = await agent.get('/partner-relationships');
      expect((await agent.post('/sign-out').type('form').send({ csrf: csrfIn(list.text) })).status).toBe(303);
      expect(await system.db.customerSession.count({ where: { tenantDomain } })).toBe(0);
      expect(await signedInWith(cookie)).toBe(false);
      const replayed = await api.post('/tenant-admins').set('Cookie', cookie).type('form').send({ csrf: csrfIn(list.text), email: `evil@${tenantDomain}` });
      expect(replayed.status).toBe(401);
    });

    it('removing an admin deletes its sessions in the same step (operator API and PUT), and its unused links', async () => {
      const tenantDomain = await registerTenant(['boss', 'deputy', 'third']);
      const [boss, deputy, third] = ['boss', 'deputy', 'third'].map((a) => `${a}@${tenantDomain}`) as [string, string, string];
      const deputySession = await signInWith(await linkFor(newClient(), tenantDomain, deputy));
      const thirdSession = await signInWith(await linkFor(newClient(), tenantDomain, third));
      await linkFor(newClient(), tenantDomain, deputy);
      expect(await system.db.signInToken.count({ where: { tenantDomain, email: deputy, usedAt: null } })).toBe(1);

      const operator = { Authorization: `Bearer ${system.operatorToken}` };
      expect((await api.delete(`/api/v1/admin/tenants/${tenantDomain}/admins/${deputy}`).set(operator)).status).toBe(200);
      // Gone when the call returns, not merely refused on the next request.
      expect(await system.db.customerSession.count({ where: { tenantDomain, email: deputy } })).toBe(0);
      expect(await system.db.signInToken.count({ where: { tenantDomain, email: deputy, usedAt: null } })).toBe(0);
      expect(await signedInWith(deputySession.cookie)).toBe(false);
      expect(await signedInWith(thirdSession.cookie)).toBe(true);

      expect((await api.put(`/api/v1/admin/tenants/${tenantDomain}`).set(operator).send({ name: 'Contoso', admins: [boss] })).status).toBe(200);
      expect(await system.db.customerSession.count({ where: { tenantDomain, email: third } })).toBe(0);
      expect(await signedInWith(thirdSession.cookie)).toBe(false);
    });

    it('a session ends after 8 hours, and after an hour unused', async () => {
      const tenantDomain = await registerTenant(['admin']);
      const email = `admin@${tenantDomain}`;
      const idle = await signInWith(await linkFor(newClient(), tenantDomain, email));
      await system.db.customerSession.updateMany({ where: { tenantDomain }, data: { lastSeenAt: new Date(Date.now() - 61 * 60_000) } });
      expect(await signedInWith(idle.cookie)).toBe(false);
      expect(await system.db.customerSession.count({ where: { tenantDomain } })).toBe(0);

      const old = await signInWith(await linkFor(newClient(), tenantDomain, email));
      expect(await signedInWith(old.cookie)).toBe(true);
      await system.db.customerSession.updateMany({ where: { tenantDomain }, data: { expiresAt: new Date(Date.now() - 1_000) } });
      expect(await signedInWith(old.cookie)).toBe(false);
    });
  });
});
