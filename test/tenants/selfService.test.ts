import { describe, expect, it } from 'vitest';
import { useTestDnsServer } from '../support/dnsServer.js';
import { getPage, postForm } from '../support/http.js';
import { answer, customer, invitationLink, newPartner, offer, waitForStatus } from '../support/relationshipDriver.js';
import { linkInMail, mailSubjects, mailsTo, signIn, stillSignedIn } from '../support/tenantDriver.js';
import { waitFor } from '../support/waitFor.js';
import { startTestSystem } from '../support/testSystem.js';
import { useTestSystem } from '../support/useTestSystem.js';

// Self-service registration by DNS proof, against a real DNS server (dns2 on a
// local port, named by DNS_SERVERS): the emailed link proves the address, the
// TXT record proves the domain, and only both together create a tenant.

const valueOn = (html: string) => /id="record-value">([^<]+)</.exec(html)?.[1] ?? '';
const nameOn = (html: string) => /id="record-name">([^<]+)</.exec(html)?.[1] ?? '';

describe('self-service tenant registration by DNS proof', () => {
  const dns = useTestDnsServer();
  const system = useTestSystem('self-service', () => ({ env: { DNS_SERVERS: dns.servers.join(',') } }));

  /** Fills /tenants/new and returns the verification link from the email. */
  async function startVerification(fields: { tenantDomain: string; name: string; email: string }) {
    const to = fields.email.toLowerCase();
    const sent = () => mailsTo(system, to, mailSubjects.domainVerification);
    const before = sent().length;
    const res = await postForm(`${system.baseUrl}/tenants/new`, fields);
    expect(res.status, res.text).toBe(200);
    expect(res.text).toContain('Check your email');
    const mails = await waitFor(() => (sent().length > before ? sent() : undefined), { what: `a new verification email to ${to}` });
    const mail = mails[before];
    if (!mail) throw new Error('unreachable: no new verification email');
    return linkInMail(mail, '/tenants/verify');
  }

  const tenantRow = (domain: string) => system.db.tenant.findUnique({ where: { domain }, include: { admins: true } });

  it('missing, wrong, another domain’s and a stale record each say what was found and expected; the right one registers', async () => {
    const { tenantDomain } = customer('selfserve');
    const email = `owner@${tenantDomain}`;
    const first = await startVerification({ tenantDomain, name: 'Self Serve Ltd', email });
    const firstPage = await getPage(first);
    const staleValue = valueOn(firstPage.text);
    // A second verification of the same domain gets a new value; the first one's becomes stale.
    const link = await startVerification({ tenantDomain, name: 'Self Serve Ltd', email });
    const page = await getPage(link);
    expect(page.status).toBe(200);
    const expected = valueOn(page.text);
    const recordName = nameOn(page.text);
    expect(recordName).toBe(`_partnerflow-challenge.${tenantDomain}`);
    expect(expected).toMatch(/^partnerflow-verification=[A-Za-z0-9_-]{32}$/);
    expect(expected).not.toBe(staleValue);

    const missing = await postForm(link, {});
    expect(missing.status).toBe(422);
    expect(missing.text).toContain('We found no TXT record');

    dns.publish(recordName, 'partnerflow-verification=somethingelse');
    const wrong = await postForm(link, {});
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('<code>partnerflow-verification=somethingelse</code>');
    expect(wrong.text).toContain(`We expected: <code>${expected}</code>`);
    dns.unpublish(recordName);

    // The right value, but published for another domain, proves nothing about this one.
    const other = customer('other');
    dns.publish(`_partnerflow-challenge.${other.tenantDomain}`, expected);
    expect((await postForm(link, {})).status).toBe(422);

    // Another domain's challenge value published here is a mismatch too.
    const otherLink = await startVerification({ tenantDomain: other.tenantDomain, name: 'Other', email: `x@${other.tenantDomain}` });
    const otherValue = valueOn((await getPage(otherLink)).text);
    dns.publish(recordName, otherValue);
    const foreign = await postForm(link, {});
    expect(foreign.status).toBe(422);
    expect(foreign.text).toContain(`<code>${otherValue}</code>`);
    dns.unpublish(recordName);

    dns.publish(recordName, staleValue);
    const stale = await postForm(link, {});
    expect(stale.status).toBe(422);
    expect(stale.text).toContain('value of an earlier verification');
    expect(await tenantRow(tenantDomain)).toBeNull();

    // Beside other TXT values (an SPF record, the stale one), the right value counts.
    dns.publish(recordName, 'v=spf1 -all');
    dns.publish(recordName, expected);
    const verified = await postForm(link, {});
    expect(verified.status, verified.text).toBe(200);
    expect(verified.text).toContain(`${tenantDomain} is verified`);
    const tenant = await tenantRow(tenantDomain);
    expect(tenant).toMatchObject({ name: 'Self Serve Ltd', registeredVia: 'dns' });
    expect(tenant?.admins.map((a) => ({ email: a.email, addedVia: a.addedVia }))).toEqual([{ email, addedVia: 'dns' }]);
    const audit = await system.db.auditEvent.findMany({ where: { tenantDomain }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => [a.action, a.actorType, a.actorId])).toEqual([
      ['tenant.registered', 'customer', email],
      ['tenant.adminAdded', 'customer', email],
    ]);

    // The new admin can sign in.
    const jar = await signIn(system, tenantDomain, email);
    expect(await stillSignedIn(system, jar)).toBe(true);

    // Replaying the link, or the first (stale) one, changes nothing.
    const replay = await postForm(link, {});
    expect(replay.status).toBe(410);
    expect(replay.text).toContain('Already verified');
    const staleLink = await postForm(first, {});
    expect(staleLink.status).toBe(410);
    expect(staleLink.text).toContain('already registered');
    expect((await tenantRow(tenantDomain))?.admins).toHaveLength(1);
    expect(await system.db.auditEvent.count({ where: { tenantDomain } })).toBe(2);
  });

  it('an expired verification is refused and registers nothing, whatever DNS holds', async () => {
    const { tenantDomain } = customer('expired');
    const link = await startVerification({ tenantDomain, name: 'Late Ltd', email: `late@${tenantDomain}` });
    const page = await getPage(link);
    dns.publish(nameOn(page.text), valueOn(page.text));
    await system.db.domainChallenge.updateMany({ where: { domain: tenantDomain }, data: { expiresAt: new Date(Date.now() - 1000) } });
    for (const res of [await getPage(link), await postForm(link, {})]) {
      expect(res.status).toBe(410);
      expect(res.text).toContain('This verification has expired');
    }
    expect(await tenantRow(tenantDomain)).toBeNull();
  });

  it('normalises the domain (upper case, trailing dot, IDN) and refuses bad input on the form', async () => {
    const label = customer('norm').tenantDomain.split('.')[0] ?? 'norm';
    const link = await startVerification({ tenantDomain: `${label.toUpperCase()}.Example.COM.`, name: 'Norm', email: `Owner@${label}.example.com` });
    const page = await getPage(link);
    expect(nameOn(page.text)).toBe(`_partnerflow-challenge.${label}.example.com`);
    expect(page.text).toContain(`owner@${label}.example.com`);

    const idn = await startVerification({ tenantDomain: `bücher-${label}.example`, name: 'Bücher', email: `owner@${label}.example.com` });
    expect(nameOn((await getPage(idn)).text)).toMatch(/^_partnerflow-challenge\.xn--b/);

    const before = await system.db.domainChallenge.count();
    for (const [what, fields, message] of [
      ['a malformed domain', { tenantDomain: 'not a domain', name: 'X', email: 'a@example.com' }, 'Domain must be a domain name'],
      ['invalid punycode', { tenantDomain: 'xn--zz.example', name: 'X', email: 'a@example.com' }, 'Domain must be a domain name'],
      ['a bad address', { tenantDomain: `${label}.example.com`, name: 'X', email: 'nope' }, 'Email address must be an email address'],
      ['a control character in the name', { tenantDomain: `${label}.example.com`, name: 'X\u0007Y', email: 'a@example.com' }, 'Organisation name must not contain control characters'],
    ] as const) {
      const res = await postForm(`${system.baseUrl}/tenants/new`, fields);
      expect(res.status, what).toBe(400);
      expect(res.text, what).toContain(message);
      expect(res.text, what).toContain('role="alert"');
    }
    expect(await system.db.domainChallenge.count()).toBe(before);
    for (const path of ['/tenants/verify/unknown-token-0123456789abcdef', '/tenants/verify/x']) {
      expect((await getPage(`${system.baseUrl}${path}`)).status).toBe(404);
      expect((await postForm(`${system.baseUrl}${path}`, {})).status).toBe(404);
    }
  });

  it('answers the same for a registered domain, and its verification page says it is taken', async () => {
    const taken = customer('taken');
    await system.db.tenant.create({ data: { domain: taken.tenantDomain, name: 'Taken', registeredVia: 'operator', admins: { create: [{ email: taken.adminEmail, addedVia: 'operator' }] } } });
    const free = customer('free');
    const a = await postForm(`${system.baseUrl}/tenants/new`, { tenantDomain: taken.tenantDomain, name: 'Mine', email: 'someone@example.com' });
    const b = await postForm(`${system.baseUrl}/tenants/new`, { tenantDomain: free.tenantDomain, name: 'Mine', email: 'someone@example.com' });
    expect(a.status).toBe(200);
    expect(a.text).toBe(b.text);
    const mail = await system.smtp.waitForMail((m) => m.to.includes('someone@example.com') && (m.parsed.subject ?? '').includes(taken.tenantDomain), 'the verification email');
    const page = await getPage(linkInMail(mail, '/tenants/verify'));
    expect(page.status).toBe(410);
    expect(page.text).toContain('already registered');
  });

  it('DNS that does not answer is said plainly (503) and changes nothing', async () => {
    const down = await startTestSystem('self-service-dns-down', { env: { DNS_SERVERS: '127.0.0.1:9' } });
    try {
      const { tenantDomain } = customer('dnsdown');
      const res = await postForm(`${down.baseUrl}/tenants/new`, { tenantDomain, name: 'Down', email: `o@${tenantDomain}` });
      expect(res.status).toBe(200);
      const mail = await down.smtp.waitForMail((m) => m.to.includes(`o@${tenantDomain}`), 'the verification email');
      const verify = await postForm(linkInMail(mail, '/tenants/verify'), {});
      expect(verify.status).toBe(503);
      expect(verify.text).toContain('We could not ask DNS');
      expect(await down.db.tenant.count({ where: { domain: tenantDomain } })).toBe(0);
    } finally {
      await down.stop();
    }
  });

  it('from an invitation to an unregistered domain: prove the domain, come back, answer', async () => {
    const partner = await newPartner(system, 'selfserve');
    const to = customer('fromlink');
    const { id } = await offer(system, partner, to, {}, { registered: false });
    const link = await invitationLink(system, to);
    const unregistered = await getPage(link);
    expect(unregistered.text).toContain('is not registered with us yet');
    expect(unregistered.text).not.toContain('name="choice"');
    expect((await postForm(`${link}/verify-domain`, { name: '' })).status).toBe(400);

    const started = await postForm(`${link}/verify-domain`, { name: 'From Link Ltd' });
    expect(started.status).toBe(303);
    const challengeUrl = `${system.baseUrl}${started.headers.get('location') ?? ''}`;
    const page = await getPage(challengeUrl);
    expect(page.text).toContain(`you (${to.adminEmail}) manage`);
    dns.publish(nameOn(page.text), valueOn(page.text));
    const invitationToken = new URL(link).pathname.split('/').pop() ?? '';
    const verified = await postForm(challengeUrl.split('?')[0] ?? '', { invitation: invitationToken });
    expect(verified.status).toBe(200);
    expect(verified.text).toContain(`href="/invitations/${invitationToken}"`);
    // The invitation's address proved the inbox: it is the first admin, with no extra email.
    expect((await tenantRow(to.tenantDomain))?.admins.map((a) => a.email)).toEqual([to.adminEmail]);

    const authorization = await getPage(link);
    expect(authorization.text).toContain('name="choice"');
    expect((await answer(link, { yes: true })).status).toBe(200);
    await waitForStatus(partner, id, 'active');
  });
});
