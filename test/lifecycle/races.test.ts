import { WorkflowNotFoundError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { acceptUpdate, removeUpdate, type AcceptInput } from '../../src/contract/messages.js';
import {
  answer,
  auditTransitions,
  deliveredOffer,
  expectAuditPath,
  mailsTo,
  newParties,
  offer,
  readModel,
  refusalIn,
  refusalOf,
  subjects,
  waitFor,
  waitForStatus,
  stateOf,
} from '../support/relationshipDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';

// Messages that arrive together: the workflow must let exactly one win.
describe.concurrent('racing answers', () => {
  const system = useTestSystem('races');

  it('double accept: exactly one wins, the other is refused with invitationUsed', async () => {
    const { partner, to, id, handle, link } = await deliveredOffer(system, 'double');
    const [invitationId] = (await stateOf(handle)).invitation.validIds;
    if (!invitationId) throw new Error('no invitation issued');
    const input: AcceptInput = { invitationId, actor: { type: 'customer', id: to.adminEmail }, startTrial: false };

    // Two clicks at once, straight at the workflow (the page's own check can't help here).
    const results = await Promise.allSettled([
      handle.executeUpdate(acceptUpdate, { args: [input] }),
      handle.executeUpdate(acceptUpdate, { args: [input] }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const loser = results.find((r) => r.status === 'rejected');
    expect(refusalIn(loser?.reason).reason).toBe('invitationUsed');

    // Later, once active, the same answer is still refused, with the same reason.
    await waitForStatus(partner, id, 'active');
    const late = await refusalOf(handle.executeUpdate(acceptUpdate, { args: [input] }));
    expect(late).toMatchObject({ reason: 'invitationUsed', status: 'active' });
    const page = await answer(link, { yes: true });
    expect(page.status).toBe(410);
    expect(page.text).toContain('already answered');

    await expectAuditPath(system, id, ['invited', 'accepted', 'active']);
    expect(mailsTo(system, partner.contactEmail, subjects.accepted)).toHaveLength(1);
    await handle.terminate('test cleanup');
  });

  it('removed right after accepting, before the trial starts: stays terminated, never provisioned or activated', async () => {
    const { partner, to, id, handle } = await deliveredOffer(system, 'quickremove', { trial: { offer: 'Business Basic', seats: 5, days: 14 } });
    const [invitationId] = (await stateOf(handle)).invitation.validIds;
    if (!invitationId) throw new Error('no invitation issued');
    const actor = { type: 'customer' as const, id: to.adminEmail };

    const accepted = await handle.executeUpdate(acceptUpdate, { args: [{ invitationId, actor, startTrial: true }] });
    expect(accepted.status).toBe('accepted');
    const removed = await handle.executeUpdate(removeUpdate, { args: [{ actor, reason: 'Changed my mind' }] });
    expect(removed.status).toBe('terminated');

    const final = await handle.result();
    expect(final.status).toBe('terminated');
    expect(final.transitions.map((t) => t.to)).toEqual(['invited', 'accepted', 'terminated']);
    await waitForStatus(partner, id, 'terminated');
    await expectAuditPath(system, id, ['invited', 'accepted', 'terminated']);
    expect(await system.db.roleGrant.count({ where: { relationshipId: id, revokedAt: null } })).toBe(0);
  });

  it('accept racing the invitation expiry: one of them wins, never both, and every record agrees', async () => {
    // Accepts aimed from just before to just after the expiry timer.
    const offsetsMs = [-1000, -100, -30, 0, 30, 100, 1500];
    const outcomes = await Promise.all(
      offsetsMs.map(async (offsetMs) => {
        // A partner each: the API serialises one partner's offers, and these are set up at once.
        const { partner, to } = await newParties(system, 'race');
        const { id, handle } = await offer(system, partner, to, { invitationTtl: '8s' });
        const state = await waitFor(async () => {
          const s = await stateOf(handle);
          return s.invitation.validIds.length > 0 ? s : undefined;
        }, { what: 'the invitation to be issued' });
        const [invitationId] = state.invitation.validIds;
        if (!invitationId) throw new Error('no invitation issued');
        const expiresAt = Date.parse(state.invitation.expiresAt);
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt + offsetMs - Date.now())));
        const firedMs = Date.now() - expiresAt;
        const accepted = await handle
          .executeUpdate(acceptUpdate, { args: [{ invitationId, actor: { type: 'customer', id: to.adminEmail }, startTrial: false }] })
          .then(
            () => true,
            (err: unknown) => {
              // Refused by the validator, or too late even for that: the expired workflow already closed.
              if (!(err instanceof WorkflowNotFoundError)) expect(refusalIn(err).reason).toBe('invitationExpired');
              return false;
            },
          );
        return { partner, id, handle, to, accepted, offsetMs, firedMs };
      }),
    );

    for (const { partner, id, handle, accepted, to } of outcomes) {
      const status = accepted ? 'active' : 'invitationExpired';
      await waitForStatus(partner, id, status);
      expect((await stateOf(handle)).status).toBe(status);
      const trail = await auditTransitions(system, id);
      expect(trail.map((t) => t.to)).toEqual(accepted ? ['invited', 'accepted', 'active'] : ['invited', 'invitationExpired']);
      const grants = await system.db.roleGrant.count({ where: { relationshipId: id, revokedAt: null } });
      expect(grants).toBe(accepted ? 2 : 0);
      await waitFor(() => mailsTo(system, partner.contactEmail, accepted ? subjects.accepted : subjects.invitationExpired).some((m) => m.parsed.subject?.includes(to.name)), {
        what: `the partner's ${status} email for ${to.tenantDomain}`,
      });
    }
    // An accept well before the deadline wins and one well after loses; those at the deadline are the race.
    const summary = outcomes.map((o) => `${o.offsetMs}ms (sent at ${o.firedMs}ms): ${o.accepted ? 'accepted' : 'expired'}`).join('; ');
    expect(outcomes.find((o) => o.offsetMs === -1000)?.accepted, summary).toBe(true);
    expect(outcomes.find((o) => o.offsetMs === 1500)?.accepted, summary).toBe(false);
    for (const { partner, handle, accepted, id } of outcomes) {
      if (accepted) await handle.terminate('test cleanup');
      else expect((await readModel(partner, id)).endedAt).toBeTruthy();
    }
  });
});
