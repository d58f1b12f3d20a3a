import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { partnerListSchema } from '../../src/apiDocs/responseSchemas.js';
import { runOperatorCli } from '../../src/operator/cli/operatorCli.js';
import { partnerPauseStateSchema } from '../../src/operator/partnerPauseSchemas.js';
import { partnerWebhookEventSchema } from '../../src/webhooks/partnerWebhookEvent.js';
import { DELIVERY_HEADER, EVENT_HEADER } from '../../src/webhooks/webhookSignature.js';
import { apiClient } from '../support/http.js';
import {
  access,
  answer,
  customer,
  deliveredOffer,
  expectAuditPath,
  getPage,
  mailTo,
  mailsTo,
  newPartner,
  onboardActiveRelationship,
  readModel,
  unique,
  waitFor,
  waitForStatus,
  type Partner,
} from '../support/relationshipDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { newPartnerWithWebhook, useWebhookReceiver } from '../support/webhookReceiver.js';
import { expectShape } from './apiHarness.js';

// The operator's pause switch (issue 14, point 2) on the real stack: one pause
// stops all of a partner's access at once (access check, offers, acceptances),
// timers keep running, and resume restores exactly what was. Each change is
// audited with the operator's reason and told to the partner by webhook and email.

const pausedSubject = /^Your partner access is suspended$/;
const resumedSubject = /^Your partner access is resumed$/;
const roles = ['user-administrator', 'license-administrator'];

describe('pausing a partner', () => {
  const receiver = useWebhookReceiver();
  const system = useTestSystem('partner-pause', { env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_BACKOFF_MS: '200' } });
  const operator = () => apiClient(system.baseUrl, system.operatorToken);

  const setPause = async (partnerId: string, change: 'pause' | 'resume', reason: string) => {
    const res = await operator().post(`/api/v1/admin/partners/${partnerId}/${change}`, { reason });
    expect(res.status, res.text).toBe(200);
    return expectShape(partnerPauseStateSchema, res.json);
  };
  const auditOf = (partnerId: string) =>
    system.db.auditEvent.findMany({ where: { action: { in: ['partner.paused', 'partner.resumed'] }, data: { path: ['partnerId'], equals: partnerId } }, orderBy: { id: 'asc' } });
  /** The partner's own events at `path` (its relationships' events arrive there too). */
  const eventsAt = (path: string) =>
    receiver
      .at(path)
      .filter((hook) => String(hook.headers[EVENT_HEADER.toLowerCase()]).startsWith('partner.'))
      .map((hook) => ({ hook, event: expectShape(partnerWebhookEventSchema, JSON.parse(hook.body)) }));
  const listedPausedAt = async (partnerId: string) =>
    expectShape(partnerListSchema, (await operator().get('/api/v1/admin/partners')).json).partners.find((p) => p.id === partnerId)?.pausedAt;
  const newOffer = (partner: Partner, label: string) => partner.api.post('/api/v1/relationships', { customer: customer(label), roles });

  it('stops every access of the partner at once, and resume restores exactly what was', async () => {
    const path = `/${unique('pause')}`;
    const partner = await newPartnerWithWebhook(system, receiver, 'pause', path, () => 204);
    const active = await onboardActiveRelationship(system, { partner, to: customer('pause-active') });
    const pending = await deliveredOffer(system, { partner, to: customer('pause-pending') });
    const declining = await deliveredOffer(system, { partner, to: customer('pause-declining') });
    expect(await access(partner, active.to)).toEqual({ allowed: true, relationshipId: active.id });

    const reason = 'A leaked API key was used from an unknown network.';
    const paused = await setPause(partner.id, 'pause', reason);
    expect(paused).toMatchObject({ id: partner.id, name: partner.name, paused: true, pauseReason: reason, changed: true });
    expect(await listedPausedAt(partner.id)).toBe(paused.pausedAt);

    // Every relationship, every role, at once (the access check reads paused_at).
    for (const role of roles) expect(await access(partner, active.to, role)).toEqual({ allowed: false });

    // No new offer: a typed 409, and nothing created.
    const before = await system.db.relationship.count({ where: { partnerId: partner.id } });
    const refused = await newOffer(partner, 'pause-new');
    expect(refused.status, refused.text).toBe(409);
    expect(refused.json).toMatchObject({ type: '/problems/partnerPaused', status: 409, pausedAt: paused.pausedAt });
    expect(await system.db.relationship.count({ where: { partnerId: partner.id } })).toBe(before);

    // The customer's page says why and offers no Yes; a Yes posted anyway is refused server-side.
    const page = await getPage(pending.link);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`The service operator has suspended ${partner.name}`);
    expect(page.text).not.toContain('value="yes"');
    expect(page.text).not.toContain(reason);
    for (const startTrial of [false, true]) {
      const accepted = await answer(pending.link, { yes: true, startTrial });
      expect(accepted.status).toBe(409);
      expect(accepted.text).toContain('cannot be accepted now');
    }
    expect((await readModel(partner, pending.id)).status).toBe('invited');
    // Saying No stays the customer's to do: it gives the partner nothing.
    const declined = await answer(declining.link, { yes: false, reason: 'Not while they are suspended.' });
    expect(declined.status).toBe(200);
    await waitForStatus(partner, declining.id, 'declined');
    expect(await system.db.roleGrant.count({ where: { relationshipId: active.id, revokedAt: null } })).toBe(roles.length);

    // Told by webhook (signed, stable id) and by email to the contact address; audited with the reason.
    const [pausedHook] = await waitFor(() => (eventsAt(path).some((e) => e.event.type === 'partner.paused') ? eventsAt(path).filter((e) => e.event.type === 'partner.paused') : undefined), {
      what: 'the partner.paused webhook',
    });
    expect(pausedHook?.hook.check).toMatchObject({ ok: true });
    expect(pausedHook?.event).toMatchObject({ type: 'partner.paused', data: { partnerId: partner.id, paused: true, pausedAt: paused.pausedAt, reason } });
    expect(pausedHook?.hook.headers[DELIVERY_HEADER.toLowerCase()]).toBe(pausedHook?.event.id);
    expect(pausedHook?.hook.headers[EVENT_HEADER.toLowerCase()]).toBe('partner.paused');
    const pausedMail = await mailTo(system, partner.contactEmail, pausedSubject);
    expect(pausedMail.parsed.text).toContain(reason);
    const [pauseAudit] = await auditOf(partner.id);
    expect(pauseAudit).toMatchObject({ action: 'partner.paused', actorType: 'operator', reason, idempotencyKey: pausedHook?.event.id });

    // Pausing again says so and changes nothing: the first reason stays, nobody is told twice.
    const again = await setPause(partner.id, 'pause', 'A second, different reason.');
    expect(again).toMatchObject({ paused: true, pausedAt: paused.pausedAt, pauseReason: reason, changed: false });
    expect(await auditOf(partner.id)).toHaveLength(1);

    const resumeReason = 'Keys rotated; the leaked key is revoked.';
    const resumed = await setPause(partner.id, 'resume', resumeReason);
    expect(resumed).toMatchObject({ paused: false, pausedAt: null, pauseReason: null, changed: true });
    expect(await listedPausedAt(partner.id)).toBeNull();
    expect(await access(partner, active.to)).toEqual({ allowed: true, relationshipId: active.id });
    expect(await access(partner, active.to, 'license-administrator')).toEqual({ allowed: true, relationshipId: active.id });
    expect((await setPause(partner.id, 'resume', 'Again.')).changed).toBe(false);

    // The pending invitation can be accepted again, and offers are taken.
    expect((await answer(pending.link, { yes: true })).status).toBe(200);
    await waitForStatus(partner, pending.id, 'active');
    expect(await access(partner, pending.to)).toEqual({ allowed: true, relationshipId: pending.id });
    const offered = await newOffer(partner, 'pause-after');
    expect(offered.status, offered.text).toBe(201);

    const resumedHook = await waitFor(() => eventsAt(path).find((e) => e.event.type === 'partner.resumed'), { what: 'the partner.resumed webhook' });
    expect(resumedHook.event).toMatchObject({ data: { partnerId: partner.id, paused: false, pausedAt: null, reason: resumeReason } });
    expect(resumedHook.event.id).not.toBe(pausedHook?.event.id);
    expect((await mailTo(system, partner.contactEmail, resumedSubject)).parsed.text).toContain(resumeReason);
    const trail = await auditOf(partner.id);
    expect(trail.map((row) => [row.action, row.reason])).toEqual([
      ['partner.paused', reason],
      ['partner.resumed', resumeReason],
    ]);
    // Exactly one of each, though each call was repeated (the resumed ones arrived after the repeats).
    expect(eventsAt(path).map((e) => e.event.type).sort()).toEqual(['partner.paused', 'partner.resumed']);
    expect(mailsTo(system, partner.contactEmail, pausedSubject)).toHaveLength(1);
    expect(mailsTo(system, partner.contactEmail, resumedSubject)).toHaveLength(1);
  });

  it('timers keep running while paused: a relationship and an invitation end on time, and resume does not bring them back', async () => {
    const partner = await newPartner(system, 'pause-timer');
    // The invitation first (no offers once paused), then the relationship; paused as soon as it is active.
    const pending = await deliveredOffer(system, { partner, to: customer('pause-timer-pending') }, { invitationTtl: '20s' });
    const active = await onboardActiveRelationship(system, { partner, to: customer('pause-timer-active') }, { duration: '10s' });
    const paused = await setPause(partner.id, 'pause', 'Investigating a breach of contract.');

    const expired = await waitForStatus(partner, active.id, 'expired');
    const invitationExpired = await waitForStatus(partner, pending.id, 'invitationExpired');
    // Both ended while the partner was paused, by their own timers.
    const pausedAt = Date.parse(String(paused.pausedAt));
    expect(Date.parse(String(expired.endedAt))).toBeGreaterThan(pausedAt);
    expect(Date.parse(String(invitationExpired.endedAt))).toBeGreaterThan(pausedAt);
    expect((await expectAuditPath(system, active.id, ['invited', 'accepted', 'active', 'expired']))[3]?.actor).toBe('system');
    expect((await expectAuditPath(system, pending.id, ['invited', 'invitationExpired']))[1]?.actor).toBe('system');

    await setPause(partner.id, 'resume', 'Cleared.');
    expect(await access(partner, active.to)).toEqual({ allowed: false });
    expect((await getPage(pending.link)).status).toBe(410);
  });

  it('only the operator may pause or resume: no key is 401, a partner key 403, and nothing changes', async () => {
    const partner = await newPartner(system, 'pause-auth');
    const other = await newPartner(system, 'pause-auth-other');
    for (const change of ['pause', 'resume'] as const) {
      const url = `/api/v1/admin/partners/${partner.id}/${change}`;
      expect((await apiClient(system.baseUrl).post(url, { reason: 'I want to' })).status).toBe(401);
      expect((await apiClient(system.baseUrl, 'pf_not-a-real-key').post(url, { reason: 'I want to' })).status).toBe(401);
      for (const caller of [partner, other]) {
        const res = await caller.api.post(url, { reason: 'I want to' });
        expect(res.status).toBe(403);
        expect(res.json.type).toBe('/problems/forbidden');
      }
    }
    expect(await system.db.partner.findUnique({ where: { id: partner.id }, select: { pausedAt: true } })).toEqual({ pausedAt: null });
    expect(await auditOf(partner.id)).toHaveLength(0);

    // The operator's own bad requests change nothing either.
    expect((await operator().post(`/api/v1/admin/partners/${partner.id}/pause`, {})).status).toBe(400);
    expect((await operator().post(`/api/v1/admin/partners/${partner.id}/pause`, { reason: '   ' })).status).toBe(400);
    expect((await operator().post(`/api/v1/admin/partners/${partner.id}/pause`, { reason: 'x', extra: 1 })).status).toBe(400);
    expect((await operator().post('/api/v1/admin/partners/not-a-uuid/pause', { reason: 'x' })).status).toBe(400);
    expect((await operator().post(`/api/v1/admin/partners/${randomUUID()}/pause`, { reason: 'x' })).status).toBe(404);
    expect(await auditOf(partner.id)).toHaveLength(0);
    expect((await newOffer(partner, 'pause-auth-offer')).status).toBe(201);
  });

  it('the CLI pauses and resumes with a reason, and says when nothing changed', async () => {
    const partner = await newPartner(system, 'pause-cli');
    const run = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runOperatorCli(argv, { env: { PARTNERFLOW_URL: system.baseUrl, OPERATOR_TOKEN: system.operatorToken }, out: (l) => out.push(l), err: (l) => err.push(l) });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const missing = await run('partners', 'pause', partner.id);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--reason');

    const paused = await run('partners', 'pause', partner.id, '--reason', 'Breach of contract');
    expect(paused.code, paused.err).toBe(0);
    expect(paused.out).toMatch(/paused at \d{4}-/);
    expect((await newOffer(partner, 'pause-cli-offer')).status).toBe(409);
    expect((await run('partners', 'pause', partner.id, '--reason', 'Again')).out).toContain('was already paused since');

    const resumed = await run('partners', 'resume', partner.id, '--reason', 'Settled', '--json');
    expect(resumed.code, resumed.err).toBe(0);
    expect(JSON.parse(resumed.out)).toMatchObject({ id: partner.id, paused: false, changed: true });
    expect((await run('partners', 'resume', partner.id, '--reason', 'Again')).out).toContain('was already not paused');
    expect((await auditOf(partner.id)).map((row) => [row.action, row.reason])).toEqual([
      ['partner.paused', 'Breach of contract'],
      ['partner.resumed', 'Settled'],
    ]);
  });
});
