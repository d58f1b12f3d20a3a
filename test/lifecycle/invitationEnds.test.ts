import { describe, expect, it } from 'vitest';
import { RelationshipStatusKey } from '../../src/contract/searchAttributes.js';
import { recordHistory } from '../support/historyRecorder.js';
import {
  access,
  answer,
  deliveredOffer,
  expectAuditPath,
  explainedBy,
  getPage,
  invitationLink,
  mailTo,
  mailsTo,
  newParties,
  readModel,
  statusSearchAttributeValues,
  subjects,
  waitForStatus,
  stateOf,
  waitFor,
} from '../support/relationshipDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';

// Every way an invitation ends without a relationship, plus resend and the
// rule of one live offer per partner, tenant and roles.
describe.concurrent('invitations that end or change', () => {
  const system = useTestSystem('invitations');

  it('decline with a reason: declined, the partner gets the reason', async () => {
    const { partner, to, id, workflowId, handle, link } = await deliveredOffer(system, 'decline');
    const answered = await answer(link, { yes: false, reason: 'We already work with another provider.' });
    expect(answered.status).toBe(200);
    expect(answered.text).toContain('You declined');

    const declined = await waitForStatus(partner, id, 'declined');
    expect(declined.endedAt).toBeTruthy();
    const mail = await mailTo(system, partner.contactEmail, subjects.declined);
    expect(mail.parsed.text).toContain('We already work with another provider.');
    expect(await access(partner, to)).toEqual({ allowed: false });
    expect((await getPage(link)).status).toBe(410);

    await handle.result();
    const trail = await expectAuditPath(system, id, ['invited', 'declined']);
    expect(trail[1]).toMatchObject({ actor: 'customer', actorId: to.adminEmail, reason: 'We already work with another provider.' });
    expect(await statusSearchAttributeValues(handle)).toEqual(['invited', 'declined']);
    await recordHistory(system.temporal, 'decline-with-reason', workflowId);
  });

  it('withdraw: withdrawn, the link stops working, a second withdraw is refused', async () => {
    const { partner, id, workflowId, handle, link } = await deliveredOffer(system, 'withdraw');

    // Terminate is for live relationships; while invited the validator refuses it before anything is written.
    const early = await partner.api.post(`/api/v1/relationships/${id}/terminate`, {});
    expect(early.status).toBe(409);
    expect(early.json).toMatchObject({ reason: 'invalidState', currentStatus: 'invited' });

    const withdrawn = await partner.api.post(`/api/v1/relationships/${id}/withdraw`, { reason: 'Sent to the wrong tenant' });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.json.status).toBe('withdrawn');
    await waitForStatus(partner, id, 'withdrawn');
    const page = await getPage(link);
    expect(page.status).toBe(410);
    expect(page.text).not.toContain('value="yes"');

    await handle.result();
    const trail = await expectAuditPath(system, id, ['invited', 'withdrawn']);
    expect(trail[1]).toMatchObject({ actor: 'partner', actorId: partner.id, reason: 'Sent to the wrong tenant' });
    expect(await statusSearchAttributeValues(handle)).toEqual(['invited', 'withdrawn']);
    await recordHistory(system.temporal, 'withdraw', workflowId);
  });

  it('expiry with its reminder: reminder link works, then invitationExpired and the partner is told', async () => {
    const { partner, to, id, workflowId, handle, link: first } = await deliveredOffer(system, 'expiry', {
      // Wide enough that a loaded machine still sends the reminder (one already due is skipped, by design).
      invitationTtl: '12s',
      policy: { reminderBeforeExpiry: '6s' },
    });
    await explainedBy(handle, waitFor(async () => (await stateOf(handle)).invitation.reminderSent, { what: 'the reminder to be issued' }));
    const reminderLink = await invitationLink(system, to, subjects.reminder);
    expect(reminderLink).not.toBe(first);
    // Both links open the authorization page until the invitation expires.
    for (const link of [first, reminderLink]) {
      const page = await getPage(link);
      expect(page.status).toBe(200);
      expect(page.text).toContain('value="yes"');
    }
    expect((await readModel(partner, id)).status).toBe('invited');

    const expired = await waitForStatus(partner, id, 'invitationExpired');
    expect(expired.endedAt).toBeTruthy();
    await mailTo(system, partner.contactEmail, subjects.invitationExpired);
    const late = await getPage(reminderLink);
    expect(late.status).toBe(410);
    expect(late.text).toContain('expired');
    expect(mailsTo(system, to.adminEmail, subjects.reminder)).toHaveLength(1);

    await handle.result();
    const trail = await expectAuditPath(system, id, ['invited', 'invitationExpired']);
    expect(trail[1]?.actor).toBe('system');
    expect(await statusSearchAttributeValues(handle)).toEqual(['invited', 'invitationExpired']);
    expect((await handle.describe()).typedSearchAttributes.get(RelationshipStatusKey)).toBe('invitationExpired');
    await recordHistory(system.temporal, 'invitation-expires-after-reminder', workflowId);
  });

  it('resend rotates the token: the old link says it was replaced, the new one works', async () => {
    const { partner, to, id, workflowId, handle, link: oldLink } = await deliveredOffer(system, 'resend', { invitationTtl: '1h' });
    const before = await stateOf(handle);

    const resent = await partner.api.post(`/api/v1/relationships/${id}/resend`, {});
    expect(resent.status).toBe(200);
    expect(resent.json.status).toBe('invited');
    expect(Date.parse(String(resent.json.invitationExpiresAt))).toBeGreaterThan(Date.parse(before.invitation.expiresAt));
    const newLink = await invitationLink(system, to, subjects.invitation, 2);
    expect(newLink).not.toBe(oldLink);

    const oldPage = await getPage(oldLink);
    expect(oldPage.status).toBe(410);
    expect(oldPage.text).toContain('This link was replaced');
    const oldAnswer = await answer(oldLink, { yes: true });
    expect(oldAnswer.status).toBe(410);
    const after = await stateOf(handle);
    expect(after.invitation.validIds).toHaveLength(1);
    expect(before.invitation.validIds).not.toContain(after.invitation.validIds[0]);

    expect((await getPage(newLink)).status).toBe(200);
    await answer(newLink, { yes: true });
    await waitForStatus(partner, id, 'active');
    await expectAuditPath(system, id, ['invited', 'accepted', 'active']);

    // Resend belongs to invitations; once active the validator refuses it.
    const tooLate = await partner.api.post(`/api/v1/relationships/${id}/resend`, {});
    expect(tooLate.status).toBe(409);
    expect(tooLate.json.currentStatus).toBe('active');

    await partner.api.post(`/api/v1/relationships/${id}/terminate`, {});
    await handle.result();
    await recordHistory(system.temporal, 'resend-then-accept-then-terminate', workflowId);
  });

  it('a second live offer for the same partner, tenant and roles is refused; the same Idempotency-Key returns the first', async () => {
    const { partner, to } = await newParties(system, 'dup');
    const body = { customer: to, roles: ['user-administrator', 'reports-reader'] };
    const first = await partner.api.post('/api/v1/relationships', body, { 'idempotency-key': 'offer-1' });
    expect(first.status).toBe(201);

    // A retry with the same key gets the first answer back, not a second offer (nor a 409).
    const replay = await partner.api.post('/api/v1/relationships', body, { 'idempotency-key': 'offer-1' });
    expect([200, 201]).toContain(replay.status);
    expect(replay.json.id).toBe(first.json.id);

    // Same roles in another order are the same offer.
    const second = await partner.api.post('/api/v1/relationships', { ...body, roles: ['reports-reader', 'user-administrator'] });
    expect(second.status).toBe(409);
    expect(second.json).toMatchObject({ reason: 'duplicateOffer', relationshipId: first.json.id });
    const withOtherKey = await partner.api.post('/api/v1/relationships', body, { 'idempotency-key': 'offer-2' });
    expect(withOtherKey.status).toBe(409);

    // Other roles are another offer.
    const other = await partner.api.post('/api/v1/relationships', { ...body, roles: ['reports-reader'] });
    expect(other.status).toBe(201);
    expect(await system.db.relationship.count({ where: { partnerId: partner.id } })).toBe(2);
    await invitationLink(system, to, subjects.invitation, 2);
    expect(mailsTo(system, to.adminEmail, subjects.invitation)).toHaveLength(2);

    // Once the first ends, the same offer may be made again.
    await partner.api.post(`/api/v1/relationships/${String(first.json.id)}/withdraw`, {});
    await waitForStatus(partner, String(first.json.id), 'withdrawn');
    const again = await partner.api.post('/api/v1/relationships', body);
    expect(again.status).toBe(201);
    for (const rel of [other, again]) await partner.api.post(`/api/v1/relationships/${String(rel.json.id)}/withdraw`, {});
  });
});
