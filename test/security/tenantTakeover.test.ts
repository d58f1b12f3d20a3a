import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDnsServer } from '../support/dnsServer.js';
import { getPage, postForm } from '../support/http.js';
import {
  access,
  answer,
  customer,
  invitationLink,
  newPartner,
  offer,
  onboardActiveRelationship,
  registerTenant,
  stateOf,
  type Customer,
  type Partner,
} from '../support/relationshipDriver.js';
import { askSignIn, mailSubjects, mailsTo } from '../support/tenantDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { waitFor } from '../support/waitFor.js';

// The attack of issue 9, as an attacker would run it on the real stack: any
// partner naming itself the "admin" of someone else's tenant. Before the
// tenant directory, the first offer for a domain fixed its admin forever, the
// attacker said Yes, the access check said yes, the attacker signed in as the
// tenant's admin and removed the real partners, and a 409 tenantAdminMismatch
// told any partner whether a tenant existed. Every step must now fail.

const ATTACKER_INBOX = 'me@evil.test';

/** An offer's answer with everything the caller chose or that is random replaced, to compare shapes and values. */
function skeleton(body: Record<string, unknown>, to: { tenantDomain: string; adminEmail: string; name?: string }): string {
  return JSON.stringify(body, (_key, value: unknown) => {
    if (typeof value !== 'string') return value;
    return value
      .replaceAll(to.adminEmail, '<email>')
      .replaceAll(to.tenantDomain, '<domain>')
      .replaceAll(to.name ?? '\u0000', '<name>')
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>');
  });
}

describe('a partner cannot make itself the admin of a tenant', () => {
  const dns = useTestDnsServer();
  const system = useTestSystem('takeover', () => ({ env: { DNS_SERVERS: dns.servers.join(',') } }));
  let legit: Partner;
  let attacker: Partner;
  let contoso: Customer;
  let legitRelationship: string;

  beforeAll(async () => {
    legit = await newPartner(system, 'legit');
    attacker = await newPartner(system, 'attacker');
    // contoso's real admin, registered by the operator, has a legitimate partner.
    contoso = customer('contoso');
    const { id, answered } = await onboardActiveRelationship(system, { partner: legit, to: contoso });
    expect(answered.status).toBe(200);
    legitRelationship = id;
  });

  it('offers answer the same whether or not the tenant is registered and whoever is named: no oracle', async () => {
    const unregistered = customer('nobody');
    const asks = [
      { tenantDomain: contoso.tenantDomain, adminEmail: ATTACKER_INBOX, name: 'Contoso (fake)' },
      { tenantDomain: unregistered.tenantDomain, adminEmail: ATTACKER_INBOX, name: 'Contoso (fake)' },
      { tenantDomain: contoso.tenantDomain, adminEmail: contoso.adminEmail, name: 'Contoso (fake)' },
    ];
    const answers = [];
    for (const [i, to] of asks.entries()) {
      // Distinct roles, so the partner's own duplicate-offer rule is not what differs.
      const res = await attacker.api.post('/api/v1/relationships', { customer: to, roles: [['reports-reader'], ['security-reader'], ['helpdesk-administrator']][i] });
      expect(res.status, res.text).toBe(201);
      answers.push(skeleton({ ...res.json, roles: '<roles>' }, to));
    }
    expect(answers[1]).toBe(answers[0]);
    expect(answers[2]).toBe(answers[0]);
    // Nothing the attacker sent reached the directory.
    expect(await system.db.tenant.count({ where: { domain: unregistered.tenantDomain } })).toBe(0);
    const tenant = await system.db.tenant.findUniqueOrThrow({ where: { domain: contoso.tenantDomain }, include: { admins: true } });
    expect(tenant.name).toBe(contoso.name);
    expect(tenant.admins.map((a) => a.email)).toEqual([contoso.adminEmail]);
  });

  it('registered tenant: the attacker’s link does not authorize, sign-in sends nothing, nothing is removed', async () => {
    const inbox = 'me2@evil.test';
    const { id, handle } = await offer(system, attacker, { ...contoso, adminEmail: inbox }, { roles: ['privileged-role-administrator'] }, { registered: false });
    const link = await invitationLink(system, { ...contoso, adminEmail: inbox });

    // Step 2: the link opens a page that says who may answer; it offers no Yes.
    const page = await getPage(link);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`${inbox} is not one of its admins`);
    expect(page.text).not.toContain('name="choice"');
    // Posting Yes (or No) anyway changes nothing.
    for (const choice of [{ yes: true as const }, { yes: false as const, reason: 'x' }]) {
      const posted = await answer(link, choice);
      expect(posted.status).toBe(403);
    }
    expect((await stateOf(handle)).status).toBe('invited');

    // Step 3: no access.
    expect(await access(attacker, contoso, 'privileged-role-administrator')).toEqual({ allowed: false });
    expect((await attacker.api.get(`/api/v1/relationships/${id}`)).json.status).toBe('invited');

    // Forwarding reaches the real admin only; the attacker gets no link of its own.
    const inboxBefore = system.smtp.messages.filter((m) => m.to.includes(inbox)).length;
    expect((await postForm(`${link}/forward`, {})).status).toBe(200);
    await system.smtp.waitForMail((m) => m.to.includes(contoso.adminEmail) && /forwarded this request/.test(m.parsed.text ?? ''), 'the forward to the real admin');
    expect(system.smtp.messages.filter((m) => m.to.includes(inbox))).toHaveLength(inboxBefore);

    // Step 3, sign-in: the same page as for the real admin, and no link is made or sent.
    const attempt = await askSignIn(system, contoso.tenantDomain, inbox);
    const real = await askSignIn(system, contoso.tenantDomain, contoso.adminEmail);
    expect(attempt.text).toBe(real.text);
    await system.smtp.waitForMail((m) => m.to.includes(contoso.adminEmail) && mailSubjects.signIn.test(m.parsed.subject ?? ''), 'the real admin’s sign-in link');
    expect(await system.db.signInToken.count({ where: { email: inbox } })).toBe(0);
    expect(await system.db.emailMessage.count({ where: { toAddress: inbox, template: 'signIn' } })).toBe(0);
    expect(mailsTo(system, inbox, mailSubjects.signIn)).toHaveLength(0);
    const noSession = await getPage(`${system.baseUrl}/partner-relationships`);
    expect(noSession.text).toContain('Email me a sign-in link');

    // Step 4 of the old attack: the legitimate partner is still there, with its access.
    expect((await legit.api.get(`/api/v1/relationships/${legitRelationship}`)).json.status).toBe('active');
    expect((await access(legit, contoso)).allowed).toBe(true);
    // The legitimate partner never learns which admin acted either.
    const transitions = (await legit.api.get(`/api/v1/relationships/${legitRelationship}`)).json.transitions as { actor: { type: string; id: string | null } }[];
    expect(transitions.filter((t) => t.actor.type === 'customer').every((t) => t.actor.id === null)).toBe(true);
    expect(JSON.stringify(transitions)).not.toContain(contoso.adminEmail);
  });

  it('the attacker’s partner key cannot write or read the directory', async () => {
    const put = await attacker.api.put(`/api/v1/admin/tenants/${contoso.tenantDomain}`, { name: 'Mine now', admins: [ATTACKER_INBOX] });
    expect(put.status).toBe(403);
    expect((await attacker.api.get(`/api/v1/admin/tenants/${contoso.tenantDomain}`)).status).toBe(403);
    expect((await attacker.api.delete(`/api/v1/admin/tenants/${contoso.tenantDomain}/admins/${contoso.adminEmail}`)).status).toBe(403);
    const tenant = await system.db.tenant.findUniqueOrThrow({ where: { domain: contoso.tenantDomain }, include: { admins: true } });
    expect(tenant.name).toBe(contoso.name);
    expect(tenant.admins.map((a) => a.email)).toEqual([contoso.adminEmail]);
    // No directory change was ever made by a partner.
    expect(await system.db.auditEvent.count({ where: { tenantDomain: { not: null }, actorType: 'partner' } })).toBe(0);
  });

  it('unregistered tenant, before its real admin appears: the first offer fixes nothing and DNS proof cannot be faked', async () => {
    const inbox = 'me4@evil.test';
    const fabrikam = customer('fabrikam');
    const to = { ...fabrikam, adminEmail: inbox };
    const { handle } = await offer(system, attacker, to, {}, { registered: false });
    const link = await invitationLink(system, to);
    const page = await getPage(link);
    expect(page.text).toContain('is not registered with us yet');
    expect((await answer(link, { yes: true })).status).toBe(403);
    expect((await stateOf(handle)).status).toBe('invited');
    expect(await system.db.tenant.count({ where: { domain: fabrikam.tenantDomain } })).toBe(0);

    // The attacker starts the domain proof from its link, but controls only its own DNS.
    const started = await postForm(`${link}/verify-domain`, { name: 'Fabrikam' });
    expect(started.status).toBe(303);
    const challengeUrl = `${system.baseUrl}${started.headers.get('location') ?? ''}`;
    const challenge = await getPage(challengeUrl);
    const value = /id="record-value">([^<]+)</.exec(challenge.text)?.[1] ?? '';
    expect(value).toMatch(/^partnerflow-verification=/);
    dns.publish('_partnerflow-challenge.evil.test', value);
    const verify = await postForm(challengeUrl, {});
    expect(verify.status).toBe(422);
    expect(await system.db.tenant.count({ where: { domain: fabrikam.tenantDomain } })).toBe(0);

    // Once the real admin registers, the attacker's old link still authorizes nothing.
    await registerTenant(system, fabrikam);
    const after = await getPage(link);
    expect(after.text).toContain(`${inbox} is not one of its admins`);
    expect((await answer(link, { yes: true })).status).toBe(403);
    expect((await stateOf(handle)).status).toBe('invited');
    await waitFor(async () => (await access(attacker, fabrikam)).allowed === false, { what: 'no access for the attacker' });
  });
});
