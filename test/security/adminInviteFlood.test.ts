import { describe, expect, it } from 'vitest';
import { postForm } from '../support/http.js';
import { customer, registerTenant, unique } from '../support/relationshipDriver.js';
import { adminsPage, mailsTo, mailSubjects, signIn } from '../support/tenantDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { waitFor } from '../support/waitFor.js';

// The attack: a signed-in admin (or whoever holds an admin's session) uses the
// admins page to mail "you were invited" to any address, as often as it likes:
// an inbox flood carrying partnerflow's name, and admin invitations are not held
// by the per-recipient quota (their recipient may be waiting for them).
// Admin invitations are limited per tenant per hour (ADMIN_INVITES_PER_HOUR).

describe('admin invitations are limited per tenant', () => {
  const system = useTestSystem('admin-invite-flood', { env: { ADMIN_INVITES_PER_HOUR: '2' } });

  it('past the hourly limit an invitation is refused with 429 and no email, for any address', async () => {
    const to = customer('flood');
    await registerTenant(system, to);
    const jar = await signIn(system, to.tenantDomain, to.adminEmail);
    const { csrf } = await adminsPage(system, jar);
    const victims = [1, 2, 3, 4].map((i) => `${unique(`victim${i}`)}@inbox.example`);

    const statuses: number[] = [];
    for (const email of victims) statuses.push((await postForm(`${system.baseUrl}/tenant-admins`, { email, csrf }, jar)).status);
    expect(statuses).toEqual([200, 200, 429, 429]);

    const refused = await postForm(`${system.baseUrl}/tenant-admins`, { email: victims[0] ?? '', csrf }, jar);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused.text).toContain('Too many admin invitations');

    await waitFor(() => victims.slice(0, 2).every((v) => mailsTo(system, v, mailSubjects.adminInvitation).length === 1), { what: 'the two allowed invitations' });
    // Nothing more was queued for the refused ones (the mail worker drains the queue first).
    await waitFor(async () => Object.values(await system.mailQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).every((n) => n === 0), {
      what: 'an empty mail queue',
    });
    for (const v of victims.slice(2)) expect(mailsTo(system, v, mailSubjects.adminInvitation)).toHaveLength(0);
    expect(await system.db.tenantAdminInvite.count({ where: { tenantDomain: to.tenantDomain } })).toBe(2);
  });
});
