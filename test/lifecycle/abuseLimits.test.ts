import { describe, expect, it } from 'vitest';
import { setAutoExtendUpdate } from '../../src/contract/messages.js';
import {
  deliveredOffer,
  mailsTo,
  onboardActiveRelationship,
  refusalOf,
  stateOf,
  subjects,
  waitFor,
} from '../support/relationshipDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';

// Issue 10, item 3, the workflow's side: a partner cannot flood a customer with
// invitations (a cooldown between sends and a cap per invitation) nor toggle
// auto-extend in a loop (a cap per relationship). The limits are the operator's
// (RESEND_COOLDOWN_SECONDS, RESENDS_PER_INVITATION, AUTO_EXTEND_CHANGES_PER_RELATIONSHIP),
// small here; refusals come from the workflow's validators, so nothing reaches history.

const COOLDOWN_SECONDS = 2;
const RESENDS = 2;
const AUTO_EXTEND_CHANGES = 3;

describe.concurrent('abuse limits in the workflow', () => {
  const system = useTestSystem('abuse', {
    env: {
      RESEND_COOLDOWN_SECONDS: String(COOLDOWN_SECONDS),
      RESENDS_PER_INVITATION: String(RESENDS),
      AUTO_EXTEND_CHANGES_PER_RELATIONSHIP: String(AUTO_EXTEND_CHANGES),
    },
  });

  it('a resend loop meets the cooldown (429, Retry-After) and then the cap (409); invitation emails stay bounded', async () => {
    const { partner, to, id, handle } = await deliveredOffer(system, 'resend-loop');
    const resend = () => partner.api.post(`/api/v1/relationships/${id}/resend`, {});

    let accepted = 0;
    let cooledDown = 0;
    // A partner resending as fast as it can: each refusal changes nothing, each accepted resend waited out the cooldown.
    const capped = await waitFor(
      async () => {
        const res = await resend();
        if (res.status === 200) accepted++;
        else if (res.status === 429) {
          cooledDown++;
          expect(res.json).toMatchObject({ type: '/problems/stepCoolingDown', reason: 'resendCooldown', currentStatus: 'invited' });
          const retryAfter = Number(res.headers.get('retry-after'));
          expect(retryAfter).toBeGreaterThanOrEqual(1);
          expect(retryAfter).toBeLessThanOrEqual(COOLDOWN_SECONDS);
        } else return res;
        return undefined;
      },
      { what: 'the resend cap', timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(accepted).toBe(RESENDS);
    expect(cooledDown).toBeGreaterThan(0);
    expect(capped.status).toBe(409);
    expect(capped.json).toMatchObject({ type: '/problems/stepRefused', reason: 'resendLimit', currentStatus: 'invited' });
    expect(String(capped.json.detail)).toMatch(/already sent again 2 times, the most allowed \(2\)/);

    // The cap holds however long the partner waits: the refusal is not a cooldown.
    expect((await stateOf(handle)).invitation.resentAt).toBeDefined();
    const later = await resend();
    expect(later.status).toBe(409);

    // One invitation and two resends reached history and the customer; nothing more.
    const scheduled = ((await handle.fetchHistory()).events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'issueInvitation');
    expect(scheduled).toHaveLength(1 + RESENDS);
    await waitFor(() => mailsTo(system, to.adminEmail, subjects.invitation).length >= 1 + RESENDS, { what: 'the resent invitations' });
    expect((await stateOf(handle)).invitation.round).toBe(RESENDS);
    expect(await system.db.emailMessage.count({ where: { relationshipId: id, template: 'invitation' } })).toBeLessThanOrEqual(1 + RESENDS);
  });

  it('auto-extend changes stop at the cap with a typed refusal; each change allowed is audited once', async () => {
    const { partner, id, handle } = await onboardActiveRelationship(system, 'toggle', { duration: '2m' });
    const actor = { type: 'partner' as const, id: partner.id };

    for (let i = 0; i < AUTO_EXTEND_CHANGES; i++) {
      await handle.executeUpdate(setAutoExtendUpdate, { args: [{ actor, autoExtend: i % 2 === 0 }] });
    }
    const refusal = await refusalOf(handle.executeUpdate(setAutoExtendUpdate, { args: [{ actor, autoExtend: false }] }));
    expect(refusal).toMatchObject({ reason: 'autoExtendLimit', status: 'active' });
    expect(refusal.message).toMatch(/changed 3 times, the most allowed \(3\)/);

    const state = await stateOf(handle);
    expect(state.autoExtendChanges).toBe(AUTO_EXTEND_CHANGES);
    expect(state.autoExtend).toBe(true);
    const audited = await system.db.auditEvent.count({ where: { relationshipId: id, action: { in: ['relationship.autoExtendOn', 'relationship.autoExtendOff'] } } });
    expect(audited).toBe(AUTO_EXTEND_CHANGES);
  });
});
