import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RelationshipStatusKey } from '../src/contract/searchAttributes.js';
import { apiClient, getPage, postForm } from './support/http.js';
import { csrfIn, linkIn } from './support/relationshipDriver.js';
import { useTestSystem } from './support/useTestSystem.js';
import { waitFor } from './support/waitFor.js';

describe('walking skeleton: one relationship through real Temporal, Postgres, Redis and SMTP', () => {
  const system = useTestSystem('skeleton');

  it('offer → email → Yes, Next → active → customer removes → terminated, access denied', async () => {
    const operator = apiClient(system.baseUrl, system.operatorToken);
    const tenantDomain = `contoso-${randomBytes(3).toString('hex')}.example.com`;
    const adminEmail = `admin@${tenantDomain}`;

    const created = await operator.post('/api/v1/admin/partners', { name: 'Fabrikam IT', contactEmail: 'ops@fabrikam.example' });
    expect(created.status).toBe(201);
    const apiKey = String(created.json.apiKey);
    const partner = apiClient(system.baseUrl, apiKey);
    // Only the operator (or a DNS proof) registers a tenant and its admins; a partner never does.
    const registered = await operator.put(`/api/v1/admin/tenants/${tenantDomain}`, { name: 'Contoso', admins: [adminEmail] });
    expect(registered.status).toBe(201);

    const offer = await partner.post('/api/v1/relationships', {
      customer: { tenantDomain, adminEmail, name: 'Contoso' },
      roles: ['user-administrator', 'license-administrator'],
      terms: 'We manage your users and licenses during business hours.',
    });
    expect(offer.status).toBe(201);
    expect(offer.json.status).toBe('invited');
    const id = String(offer.json.id);
    expect(offer.json.workflowId).toBe(`relationship-${id}`);

    const invitation = await system.smtp.waitForMail((m) => m.to.includes(adminEmail), 'the invitation email');
    expect(invitation.parsed.subject).toContain('Fabrikam IT');
    expect(invitation.parsed.text).toContain('/invitations/');
    const link = linkIn(invitation.parsed.html || '', '/invitations');

    const page = await getPage(link);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Fabrikam IT');
    expect(page.text).toContain('value="yes"');
    expect(page.text).toContain('>Next</button>');

    const answered = await postForm(link, { choice: 'yes' });
    expect(answered.status).toBe(200);
    expect(answered.text).toContain('You authorized Fabrikam IT');

    const active = await waitFor(
      async () => {
        const res = await partner.get(`/api/v1/relationships/${id}`);
        return res.json.status === 'active' ? res.json : undefined;
      },
      { what: 'status active in the read model' },
    );
    expect(active.activatedAt).toBeTruthy();
    const audit = await system.db.auditEvent.findMany({ where: { relationshipId: id }, orderBy: { id: 'asc' } });
    expect(audit.map((e) => e.toStatus)).toEqual(['invited', 'accepted', 'active']);
    const description = await waitFor(async () => {
      const d = await system.temporal.workflow.getHandle(`relationship-${id}`).describe();
      return d.typedSearchAttributes.get(RelationshipStatusKey) === 'active' ? d : undefined;
    }, { what: 'RelationshipStatus=active search attribute' });
    expect(description.typedSearchAttributes.get(RelationshipStatusKey)).toBe('active');

    const access = await partner.get(`/api/v1/access?tenant=${tenantDomain}&role=user-administrator`);
    expect(access.json).toEqual({ allowed: true, relationshipId: id });

    // The customer signs in by emailed link and removes the partner.
    const jar = new Map<string, string>();
    await postForm(`${system.baseUrl}/sign-in`, { tenantDomain, email: adminEmail }, jar);
    const signIn = await system.smtp.waitForMail((m) => m.to.includes(adminEmail) && /sign-in/i.test(m.parsed.subject ?? ''), 'the sign-in email');
    const signInLink = linkIn(signIn.parsed.text ?? '', '/sign-in');
    expect((await getPage(signInLink, jar)).text).toContain(`Sign in as ${adminEmail}`);
    const signedIn = await postForm(signInLink, {}, jar);
    expect(signedIn.status).toBe(303);
    const list = await getPage(`${system.baseUrl}/partner-relationships`, jar);
    expect(list.text).toContain('Fabrikam IT');
    const confirm = await postForm(`${system.baseUrl}/partner-relationships/${id}/delete`, { csrf: csrfIn(list.text) }, jar);
    expect(confirm.text).toContain('Are you sure?');
    const removed = await postForm(`${system.baseUrl}/partner-relationships/${id}/delete/confirm`, { csrf: csrfIn(confirm.text) }, jar);
    expect(removed.status).toBe(200);

    // Removal answers the access check at once: the grant is revoked with the end state.
    await waitFor(async () => (await partner.get(`/api/v1/relationships/${id}`)).json.status === 'terminated', { what: 'terminated' });
    const denied = await partner.get(`/api/v1/access?tenant=${tenantDomain}&role=user-administrator`);
    expect(denied.json).toEqual({ allowed: false });
    const after = await getPage(`${system.baseUrl}/partner-relationships`, jar);
    expect(after.text).toContain("We didn't find anything to show here.");
  });
});
