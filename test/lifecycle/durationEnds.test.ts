import { describe, expect, it } from 'vitest';
import { setAutoExtendUpdate } from '../../src/contract/messages.js';
import { PartnerIdKey, RelationshipStatusKey, TenantDomainKey } from '../../src/contract/searchAttributes.js';
import { recordHistory } from '../support/historyRecorder.js';
import {
  access,
  expectAuditPath,
  historyLength,
  mailTo,
  mailsTo,
  onboardActiveRelationship,
  readModel,
  statusSearchAttributeValues,
  subjects,
  waitFor,
  waitForStatus,
  stateOf,
} from '../support/relationshipDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';

/** Events in one renewed run: start, a warning (timer, email), the renewal (timer, record, emails), continue-as-new. */
const RENEWED_RUN_MAX_EVENTS = 45;

// The relationship's own clock: warnings before the end, then either the
// end (expired) or a renewal that continues the workflow as new.
describe.concurrent('the end of a relationship’s duration', () => {
  const system = useTestSystem('duration');

  it('warns before the end, then expires; access yes while active, no once it ends', async () => {
    const { partner, to, id, workflowId, handle, active } = await onboardActiveRelationship(system, 'duration', {
      duration: '6s',
      policy: { warningsBeforeEnd: ['4s', '2s'] },
    });
    expect(Date.parse(String(active.endsAt)) - Date.parse(String(active.activatedAt))).toBe(6000);
    expect(await access(partner, to)).toEqual({ allowed: true, relationshipId: id });

    // Each warning goes to both sides, once.
    for (const address of [partner.contactEmail, to.adminEmail]) {
      await waitFor(() => mailsTo(system, address, subjects.endingSoon).length >= 2, { what: `two endingSoon emails to ${address}` });
    }
    expect((await readModel(partner, id)).status).toBe('active');

    await waitForStatus(partner, id, 'expired');
    expect(await access(partner, to)).toEqual({ allowed: false });
    await mailTo(system, partner.contactEmail, subjects.expired);
    await mailTo(system, to.adminEmail, subjects.expired);
    const final = await handle.result();
    expect(final.warningsSent).toHaveLength(2);
    expect(mailsTo(system, partner.contactEmail, subjects.endingSoon)).toHaveLength(2);
    expect(mailsTo(system, to.adminEmail, subjects.endingSoon)).toHaveLength(2);

    const trail = await expectAuditPath(system, id, ['invited', 'accepted', 'active', 'expired']);
    expect(trail[3]?.actor).toBe('system');
    expect(await statusSearchAttributeValues(handle)).toEqual(['invited', 'active', 'expired']);
    await recordHistory(system.temporal, 'duration-ends-after-warnings', workflowId);
  });

  it('auto-extends by continuing as new: state carried, renewal emails, every run’s history bounded', async () => {
    const { partner, to, id, workflowId, handle, active } = await onboardActiveRelationship(system, 'renew', {
      duration: '3s',
      autoExtend: true,
      policy: { autoExtendBy: '2s', warningsBeforeEnd: ['1s'] },
    });
    const firstRun = (await handle.describe()).runId;
    const before = await stateOf(handle);

    // Watch the chain of runs until four renewals have happened.
    const runIds = [firstRun];
    await waitFor(
      async () => {
        const { runId } = await handle.describe();
        if (!runIds.includes(runId)) runIds.push(runId);
        return runIds.length >= 5;
      },
      { what: 'four renewals (five runs)', timeoutMs: 40_000, intervalMs: 100 },
    );
    const carried = await stateOf(handle);
    expect(carried.renewals).toBeGreaterThanOrEqual(4);
    expect(carried.status).toBe('active');
    expect(carried.transitions).toEqual(before.transitions);
    expect(carried.acceptedAt).toBe(before.acceptedAt);
    expect(Date.parse(String(carried.endsAt))).toBe(Date.parse(String(active.endsAt)) + carried.renewals * 2000);

    // Search attributes set when the first run started survive continue-as-new.
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(RelationshipStatusKey)).toBe('active');
    expect(described.typedSearchAttributes.get(PartnerIdKey)).toBe(partner.id);
    expect(described.typedSearchAttributes.get(TenantDomainKey)).toBe(to.tenantDomain);

    // Renewals don't grow a run's history: each renewed run is one period's events (a warning, the
    // renewal, its emails), however many renewals came before. (A warning already due when a late
    // run starts is skipped, so a run may be shorter, never longer.)
    const lengths = await Promise.all(runIds.slice(0, 4).map((runId) => historyLength(system.temporal.workflow.getHandle(workflowId, runId))));
    const [firstRunLength = 0, ...renewedRuns] = lengths;
    expect(firstRunLength, `history lengths per run: ${lengths.join(', ')}`).toBeLessThan(100);
    for (const length of renewedRuns) expect(length, `history lengths per run: ${lengths.join(', ')}`).toBeLessThanOrEqual(RENEWED_RUN_MAX_EVENTS);

    for (const address of [partner.contactEmail, to.adminEmail]) {
      await waitFor(() => mailsTo(system, address, subjects.renewed).length >= 4, { what: `four renewal emails to ${address}` });
    }

    // Turning auto-extend off lets the current period run out.
    const off = await handle.executeUpdate(setAutoExtendUpdate, { args: [{ actor: { type: 'partner', id: partner.id }, autoExtend: false }] });
    expect(off.autoExtend).toBe(false);
    const final = await waitForStatus(partner, id, 'expired');
    expect(final.autoExtend).toBe(false);
    const finalState = await handle.result();
    expect(await access(partner, to)).toEqual({ allowed: false });
    await mailTo(system, partner.contactEmail, subjects.expired);

    const trail = await expectAuditPath(system, id, ['invited', 'accepted', 'active', 'expired']);
    expect(trail.map((t) => t.key)).toEqual([1, 2, 3, 4].map((seq) => `${workflowId}-transition-${seq}`));
    const renewals = await system.db.auditEvent.findMany({ where: { relationshipId: id, action: 'relationship.renewed' } });
    expect(renewals).toHaveLength(finalState.renewals);
    expect(mailsTo(system, partner.contactEmail, subjects.renewed)).toHaveLength(finalState.renewals);

    const lastRun = (await handle.describe()).runId;
    await recordHistory(system.temporal, 'auto-extend-first-run-continues-as-new', workflowId, runIds[0]);
    await recordHistory(system.temporal, 'renewal-written-in-order-renewed-run-continues-as-new', workflowId, runIds[2]);
    await recordHistory(system.temporal, 'auto-extend-off-last-run-expires-writes-in-order', workflowId, lastRun);
  });
});
