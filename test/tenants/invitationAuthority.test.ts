import { describe, expect, it } from 'vitest';
import { getPage, postForm } from '../support/http.js';
import {
  access,
  answer,
  customer,
  invitationLink,
  newPartner,
  offer,
  registerTenant,
  stateOf,
  waitForStatus,
} from '../support/relationshipDriver.js';
import { adminsPage, askSignIn, csrfOf, linkInMail, mailSubjects, mailsTo, signIn, stillSignedIn } from '../support/tenantDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { waitFor } from '../support/waitFor.js';

// Who may act for a tenant: an answer, a sign-in or a removal counts only when
// made by a verified admin of the relationship's tenant at that moment. The
// invitation link proves the inbox; a contact who is not an admin can only
// pass the request on to the admins. Admins manage admins, never the last one.

describe('who may act for a tenant', () => {
  const system = useTestSystem('authority');

  /** The link in the newest forwarded invitation to `admin`. */
  const forwardedLink = async (admin: string) => {
    const mail = await system.smtp.waitForMail((m) => m.to.includes(admin) && /forwarded this request/.test(m.parsed.text ?? ''), `the forward to ${admin}`);
    return linkInMail(mail, '/invitations');
  };

  it('a contact who is not an admin cannot answer; forwarding gives each admin a link of its own, once', async () => {
    const partner = await newPartner(system, 'forward');
    const to = customer('forward');
    const [boss, deputy] = [`boss@${to.tenantDomain}`, `deputy@${to.tenantDomain}`];
    await registerTenant(system, to, [boss, deputy]);
    const { id, handle } = await offer(system, partner, to, {}, { registered: false });
    const link = await invitationLink(system, to);

    const page = await getPage(link);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`${to.adminEmail} is not one of its admins`);
    // The page never says who the admins are.
    expect(page.text).not.toContain(boss);
    expect(page.text).not.toContain(deputy);
    expect((await answer(link, { yes: true })).status).toBe(403);
    expect((await answer(link, { yes: false, reason: 'no' })).status).toBe(403);
    expect((await stateOf(handle)).status).toBe('invited');

    const forwarded = await postForm(`${link}/forward`, {});
    expect(forwarded.status).toBe(200);
    expect(forwarded.text).toContain('We sent the request to your admins');
    const [bossLink, deputyLink] = [await forwardedLink(boss), await forwardedLink(deputy)];
    expect(bossLink).not.toBe(deputyLink);
    // Forwarding again sends nothing new.
    expect((await postForm(`${link}/forward`, {})).status).toBe(200);
    expect(await system.db.emailMessage.count({ where: { relationshipId: id, template: 'invitation' } })).toBe(3);
    const audit = await system.db.auditEvent.findMany({ where: { relationshipId: id, action: 'invitation.forwarded' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorType: 'customer', actorId: to.adminEmail });

    // The boss's own link shows the Yes/No form and works.
    expect((await getPage(bossLink)).text).toContain('name="choice"');
    expect((await answer(bossLink, { yes: true })).status).toBe(200);
    const active = await waitForStatus(partner, id, 'active');
    expect(await access(partner, to)).toEqual({ allowed: true, relationshipId: id });
    // The audit log names the admin who accepted; the partner sees only "customer".
    const accepted = await system.db.auditEvent.findFirstOrThrow({ where: { relationshipId: id, toStatus: 'accepted' } });
    expect(accepted).toMatchObject({ actorType: 'customer', actorId: boss });
    expect(JSON.stringify(active)).not.toContain(boss);
    // Every other link is spent.
    expect((await getPage(deputyLink)).status).toBe(410);
    expect((await getPage(link)).status).toBe(410);

    // News about the live relationship reaches every admin.
    const signedIn = await signIn(system, to.tenantDomain, deputy);
    const list = await getPage(`${system.baseUrl}/partner-relationships`, signedIn);
    const removeForm = await postForm(`${system.baseUrl}/partner-relationships/${id}/delete`, { csrf: csrfOf(list.text) }, signedIn);
    expect((await postForm(`${system.baseUrl}/partner-relationships/${id}/delete/confirm`, { csrf: csrfOf(removeForm.text) }, signedIn)).status).toBe(200);
    await waitFor(() => mailsTo(system, boss, mailSubjects.removed).length === 1 && mailsTo(system, deputy, mailSubjects.removed).length === 1, {
      what: 'the removal email to both admins',
    });
    expect(mailsTo(system, to.adminEmail, mailSubjects.removed)).toHaveLength(0);
    const removed = await system.db.auditEvent.findFirstOrThrow({ where: { relationshipId: id, toStatus: 'terminated' } });
    expect(removed).toMatchObject({ actorType: 'customer', actorId: deputy });
  });

  it('authority is checked when the answer is made: an admin removed after the link was sent cannot answer', async () => {
    const partner = await newPartner(system, 'removed');
    const to = customer('removed');
    const { handle } = await offer(system, partner, to);
    const link = await invitationLink(system, to);
    expect((await getPage(link)).text).toContain('name="choice"');
    // The operator replaces the admin before the answer.
    await registerTenant(system, to, [`new@${to.tenantDomain}`]);
    const refused = await answer(link, { yes: true });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('is not one of its admins');
    expect((await stateOf(handle)).status).toBe('invited');
    // Nor can the old admin sign in any more.
    await askSignIn(system, to.tenantDomain, to.adminEmail);
    expect(await system.db.signInToken.count({ where: { tenantDomain: to.tenantDomain } })).toBe(0);
  });

  it('admins invite admins (confirmed by email), remove them (never the last), and a removed admin’s session ends', async () => {
    const to = customer('admins');
    const [boss, deputy] = [to.adminEmail, `deputy@${to.tenantDomain}`];
    await registerTenant(system, to);
    const bossJar = await signIn(system, to.tenantDomain, boss);

    const page = await adminsPage(system, bossJar);
    expect(page.status).toBe(200);
    expect(page.text).toContain('You are the only admin');
    expect(page.text).not.toContain('aria-label="Remove');
    // The last admin cannot be removed, even by a crafted post.
    const last = await postForm(`${system.baseUrl}/tenant-admins/remove`, { csrf: page.csrf, email: boss }, bossJar);
    expect(last.status).toBe(409);
    // Without the session's CSRF token nothing happens.
    expect((await postForm(`${system.baseUrl}/tenant-admins`, { email: deputy }, bossJar)).status).toBe(403);
    expect((await postForm(`${system.baseUrl}/tenant-admins`, { email: 'not-an-address', csrf: page.csrf }, bossJar)).status).toBe(400);

    const invited = await postForm(`${system.baseUrl}/tenant-admins`, { email: deputy.toUpperCase(), csrf: page.csrf }, bossJar);
    expect(invited.status).toBe(200);
    expect(invited.text).toContain(`We emailed ${deputy} a link`);
    const mail = await system.smtp.waitForMail((m) => m.to.includes(deputy) && mailSubjects.adminInvitation.test(m.parsed.subject ?? ''), 'the admin invitation');
    const confirmLink = linkInMail(mail, '/tenant-admins/confirm');
    // Opening the link (or a mail scanner fetching it) changes nothing; only the button does.
    for (let i = 0; i < 2; i++) expect((await getPage(confirmLink)).text).toContain('Confirm');
    expect(await system.db.tenantAdmin.count({ where: { tenantDomain: to.tenantDomain } })).toBe(1);
    const confirmed = await postForm(confirmLink, {});
    expect(confirmed.status).toBe(200);
    expect(confirmed.text).toContain('You are an admin');
    expect((await postForm(confirmLink, {})).status).toBe(410);
    const admins = await system.db.tenantAdmin.findMany({ where: { tenantDomain: to.tenantDomain } });
    expect(admins.map((a) => [a.email, a.addedVia, a.addedBy]).sort()).toEqual([
      [boss, 'operator', 'operator'],
      [deputy, 'admin', boss],
    ]);

    const deputyJar = await signIn(system, to.tenantDomain, deputy);
    expect(await stillSignedIn(system, deputyJar)).toBe(true);
    // A sign-in link the deputy asks for now is made before the removal, and must be useless after it.
    await askSignIn(system, to.tenantDomain, deputy);
    const pendingMail = await waitFor(() => mailsTo(system, deputy, mailSubjects.signIn)[1], { what: 'a second sign-in link for the deputy' });

    const withTwo = await adminsPage(system, bossJar);
    expect(withTwo.text).toContain(`aria-label="Remove ${deputy}"`);
    const removed = await postForm(`${system.baseUrl}/tenant-admins/remove`, { csrf: withTwo.csrf, email: deputy }, bossJar);
    expect(removed.status).toBe(200);
    expect(removed.text).toContain(`${deputy} is no longer an admin`);

    // The deputy's session ends at once, and its unused sign-in link gives nothing.
    expect(await stillSignedIn(system, deputyJar)).toBe(false);
    expect((await getPage(`${system.baseUrl}/tenant-admins`, deputyJar)).status).toBe(401);
    expect((await getPage(linkInMail(pendingMail, '/sign-in'))).status).toBe(410);

    const actions = await system.db.auditEvent.findMany({ where: { tenantDomain: to.tenantDomain }, orderBy: { id: 'asc' } });
    expect(actions.map((a) => [a.action, a.actorId])).toEqual([
      ['tenant.registered', 'operator'],
      ['tenant.adminAdded', 'operator'],
      ['tenant.adminInvited', boss],
      ['tenant.adminAdded', deputy],
      ['tenant.adminRemoved', boss],
    ]);
  });

  it('an admin of one tenant cannot remove, or see, the admins of another', async () => {
    const [mine, theirs] = [customer('mine'), customer('theirs')];
    await registerTenant(system, mine);
    await registerTenant(system, theirs, [theirs.adminEmail, `second@${theirs.tenantDomain}`]);
    const jar = await signIn(system, mine.tenantDomain, mine.adminEmail);
    const { csrf, text } = await adminsPage(system, jar);
    expect(text).not.toContain(theirs.tenantDomain);
    const res = await postForm(`${system.baseUrl}/tenant-admins/remove`, { csrf, email: `second@${theirs.tenantDomain}` }, jar);
    expect(res.status).toBe(404);
    expect(await system.db.tenantAdmin.count({ where: { tenantDomain: theirs.tenantDomain } })).toBe(2);
  });

  it('an admin invitation link that expired or is unknown adds nobody', async () => {
    const to = customer('invite-expiry');
    await registerTenant(system, to);
    const jar = await signIn(system, to.tenantDomain, to.adminEmail);
    const { csrf } = await adminsPage(system, jar);
    const late = `late@${to.tenantDomain}`;
    expect((await postForm(`${system.baseUrl}/tenant-admins`, { email: late, csrf }, jar)).status).toBe(200);
    const mail = await system.smtp.waitForMail((m) => m.to.includes(late), 'the admin invitation');
    await system.db.tenantAdminInvite.updateMany({ where: { email: late }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const link = linkInMail(mail, '/tenant-admins/confirm');
    expect((await getPage(link)).status).toBe(410);
    expect((await postForm(link, {})).status).toBe(410);
    expect((await postForm(`${system.baseUrl}/tenant-admins/confirm/not-a-real-token-at-all`, {})).status).toBe(404);
    expect(await system.db.tenantAdmin.count({ where: { email: late } })).toBe(0);
  });
});
