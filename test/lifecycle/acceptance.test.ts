import { describe, expect, it } from 'vitest';
import { removeUpdate } from '../../src/contract/messages.js';
import { PartnerIdKey, RelationshipStatusKey, TenantDomainKey } from '../../src/contract/searchAttributes.js';
import { recordHistory } from '../support/historyRecorder.js';
import {
  access,
  answer,
  deliveredOffer,
  expectAuditPath,
  getPage,
  mailTo,
  onboardActiveRelationship,
  readModel,
  statusSearchAttributeValues,
  subjects,
  waitForStatus,
  stateOf,
} from '../support/relationshipDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';

// Acceptance, with and without a trial, and the two ends of an active
// relationship that people choose: the customer removes, the partner terminates.
describe.concurrent('accepting an invitation', () => {
  const system = useTestSystem('acceptance');

  it('accept → active with grants; customer removes → terminated, access denied at once', async () => {
    const { partner, to, id, workflowId, handle, link } = await deliveredOffer(system, 'accept');
    expect((await getPage(link)).status).toBe(200);
    const answered = await answer(link, { yes: true });
    expect(answered.status).toBe(200);
    expect(answered.text).toContain(`You authorized ${partner.name}`);

    const active = await waitForStatus(partner, id, 'active');
    expect(active.acceptedAt).toBeTruthy();
    expect(active.activatedAt).toBeTruthy();
    expect(Date.parse(String(active.endsAt)) - Date.parse(String(active.activatedAt))).toBe(730 * 86_400_000);
    const accepted = await mailTo(system, partner.contactEmail, subjects.accepted);
    expect(accepted.parsed.text).toContain('User administrator');
    expect(await access(partner, to)).toEqual({ allowed: true, relationshipId: id });
    expect(await access(partner, to, 'license-administrator')).toEqual({ allowed: true, relationshipId: id });
    // A role that was not granted stays closed.
    expect(await access(partner, to, 'domain-administrator')).toEqual({ allowed: false });

    // The link was used: the page no longer offers Yes/No.
    const reopened = await getPage(link);
    expect(reopened.status).toBe(410);
    expect(reopened.text).toContain('already answered');

    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(RelationshipStatusKey)).toBe('active');
    expect(description.typedSearchAttributes.get(PartnerIdKey)).toBe(partner.id);
    expect(description.typedSearchAttributes.get(TenantDomainKey)).toBe(to.tenantDomain);
    expect(workflowId).toBe(`relationship-${id}`);

    const removed = await handle.executeUpdate(removeUpdate, { args: [{ actor: { type: 'customer', id: to.adminEmail } }] });
    expect(removed.status).toBe('terminated');
    // The moment the read model says it ended, the access check says no: both change in one transaction.
    await waitForStatus(partner, id, 'terminated');
    expect(await access(partner, to)).toEqual({ allowed: false });
    const grants = await system.db.roleGrant.findMany({ where: { relationshipId: id } });
    expect(grants).toHaveLength(2);
    const ended = await readModel(partner, id);
    for (const g of grants) expect(g.revokedAt?.toISOString()).toBe(ended.endedAt);

    await mailTo(system, partner.contactEmail, subjects.removed);
    await mailTo(system, to.adminEmail, subjects.removed);
    await handle.result();

    const trail = await expectAuditPath(system, id, ['invited', 'accepted', 'active', 'terminated']);
    expect(trail.map((t) => t.actor)).toEqual(['partner', 'customer', 'system', 'customer']);
    expect(trail[1]?.actorId).toBe(to.adminEmail);
    expect(trail[3]?.actorId).toBe(to.adminEmail);
    // Written with the acceptance in one step, `accepted` is never the status Temporal shows (the audit has it).
    expect(await statusSearchAttributeValues(handle)).toEqual(['invited', 'active', 'terminated']);
    expect((await handle.describe()).typedSearchAttributes.get(RelationshipStatusKey)).toBe('terminated');
    // Nothing to provision: the first activity after the Yes writes `accepted` and `active` together
    // (issue 13: one workflow round trip from the Yes to active, where there were three).
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const acceptedAt = events.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'accept');
    const afterYes = events.slice(acceptedAt).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(afterYes.slice(0, 2)).toEqual(['recordTransitions', 'notify']);
    // The first workflow task issues the invitation while it writes `invited` (one round trip, not two).
    const secondTask = events.findIndex((e, i) => i > 1 && e.workflowTaskScheduledEventAttributes);
    const firstTaskActivities = events.slice(0, secondTask).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(firstTaskActivities.sort()).toEqual(['issueInvitation', 'recordTransition']);
    await recordHistory(system.temporal, 'invitation-with-first-write-then-accepted-active-then-removed', workflowId);
  });

  it('accept with trial → provisioning → active, trial row active, trialReady to the customer; partner terminates', async () => {
    const { partner, to, id, workflowId, handle, link } = await deliveredOffer(system, 'trial', { trial: { offer: 'Business Premium', seats: 25, days: 30 } });
    const page = await getPage(link);
    expect(page.text).toContain('Business Premium');
    const answered = await answer(link, { yes: true, startTrial: true });
    expect(answered.text).toContain('We are creating your Business Premium trial');

    const active = await waitForStatus(partner, id, 'active');
    expect(active.trial).toMatchObject({ status: 'active', offer: 'Business Premium', seats: 25, days: 30 });
    const trialRows = await system.db.trialSubscription.findMany({ where: { relationshipId: id } });
    expect(trialRows).toHaveLength(1);
    expect(trialRows[0]?.externalRef).toMatch(/^trial-/);
    const ready = await mailTo(system, to.adminEmail, subjects.trialReady);
    expect(ready.parsed.subject).toContain('Business Premium');
    const state = await stateOf(handle);
    expect(state.trial).toMatchObject({ status: 'active', externalRef: trialRows[0]?.externalRef });

    const terminated = await partner.api.post(`/api/v1/relationships/${id}/terminate`, { reason: 'Contract ended' });
    expect(terminated.status).toBe(200);
    expect(terminated.json.status).toBe('terminated');
    await waitForStatus(partner, id, 'terminated');
    expect(await access(partner, to)).toEqual({ allowed: false });
    const toCustomer = await mailTo(system, to.adminEmail, subjects.terminated);
    expect(toCustomer.parsed.text).toContain('Contract ended');
    await mailTo(system, partner.contactEmail, subjects.terminated);

    await handle.result();
    // Terminating again is refused with a reason and changes nothing (the workflow has closed, so the
    // API answers from the read model's end state).
    const again = await partner.api.post(`/api/v1/relationships/${id}/terminate`, {});
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ reason: 'alreadyEnded', currentStatus: 'terminated' });
    const trail = await expectAuditPath(system, id, ['invited', 'accepted', 'provisioning', 'active', 'terminated']);
    expect(trail[4]).toMatchObject({ actor: 'partner', actorId: partner.id, reason: 'Contract ended' });
    expect(await statusSearchAttributeValues(handle)).toEqual(['invited', 'accepted', 'provisioning', 'active', 'terminated']);
    await recordHistory(system.temporal, 'accept-with-trial-then-partner-terminates', workflowId);
  });

  it('accept without taking the offered trial: trial skipped, no provisioning', async () => {
    const { id, handle } = await onboardActiveRelationship(system, 'notrial', { trial: { offer: 'Business Basic', seats: 5, days: 14 } }, { startTrial: false });
    expect((await stateOf(handle)).trial?.status).toBe('skipped');
    expect(await system.db.trialSubscription.count({ where: { relationshipId: id } })).toBe(0);
    await expectAuditPath(system, id, ['invited', 'accepted', 'active']);
    await handle.terminate('test cleanup');
  });
});
