import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { STEP_REFUSED, type StepRefusal } from '../../src/contract/messages.js';
import { DAY, defaultPolicy, MINUTE, type RelationshipPolicy } from '../../src/contract/policy.js';
import type { RelationshipOffer, RelationshipState } from '../../src/contract/relationship.js';
import { relationshipStatuses, type RelationshipStatus } from '../../src/contract/statuses.js';
import { requireAutoExtendChangeAllowed, requireOpenInvitation, requireResendAllowed, requireStatus } from '../../src/workflows/refusals.js';
import { initialState } from '../../src/workflows/relationshipState.js';

// The workflow's validators: pure functions of the state that throw a
// non-retryable StepRefused failure the API maps to an HTTP status.

const offeredAt = new Date('2025-06-01T12:00:00.000Z');

const offer: RelationshipOffer = {
  relationshipId: '7f1c2a0e-3b4d-4c5e-9f60-718293a4b5c6',
  partnerId: 'partner-1',
  partnerName: 'Northwind IT Services',
  tenantDomain: 'contoso.example',
  customerAdminEmail: 'admin@contoso.example',
  roles: ['helpdesk-administrator', 'reports-reader'],
  autoExtend: true,
  policy: defaultPolicy,
};

function state(change: Partial<RelationshipState> = {}, invitation: Partial<RelationshipState['invitation']> = {}): RelationshipState {
  const base = initialState(offer, offeredAt);
  return { ...base, ...change, invitation: { ...base.invitation, validIds: ['inv-1'], ...invitation } };
}

/** The StepRefusal a validator threw, checking the failure around it. */
function refusal(run: () => void): StepRefusal {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ApplicationFailure);
    const failure = error as ApplicationFailure;
    expect(failure.type).toBe(STEP_REFUSED);
    expect(failure.nonRetryable).toBe(true);
    const details = failure.details as StepRefusal[];
    expect(details).toHaveLength(1);
    expect(details[0]?.message).toBe(failure.message);
    return details[0] as StepRefusal;
  }
  throw new Error('the step was allowed');
}

describe('initialState', () => {
  it('starts invited, with the offer as transition 1 by the partner', () => {
    const s = initialState(offer, offeredAt);
    expect(s).toMatchObject({
      relationshipId: offer.relationshipId,
      status: 'invited',
      roles: offer.roles,
      autoExtend: true,
      invitation: { validIds: [], round: 0, issued: 0, expiresAt: '2025-06-15T12:00:00.000Z', reminderSent: false, deliveryFailed: false },
      warningsSent: [],
      renewals: 0,
      writtenSeq: 0,
    });
    expect(s.transitions).toEqual([{ seq: 1, from: null, to: 'invited', at: '2025-06-01T12:00:00.000Z', actor: { type: 'partner', id: 'partner-1' } }]);
    expect('trial' in s).toBe(false);
  });

  it('carries a trial offer as pending', () => {
    const s = initialState({ ...offer, trial: { offer: 'Business Premium', seats: 25, days: 30 } }, offeredAt);
    expect(s.trial).toEqual({ offer: 'Business Premium', seats: 25, days: 30, status: 'pending' });
  });

  it('does not throw on a TTL no date can hold (the workflow refuses that policy afterwards)', () => {
    const s = initialState({ ...offer, policy: { ...defaultPolicy, invitationTtlMs: 1e300 } }, offeredAt);
    expect(s.invitation.expiresAt).toBe(offeredAt.toISOString());
  });
});

describe('requireStatus', () => {
  it('allows the listed statuses', () => {
    expect(() => requireStatus(state({ status: 'active' }), ['accepted', 'active'], 'terminate')).not.toThrow();
  });

  it.each(relationshipStatuses.filter((s) => s !== 'active'))('refuses %s when only active is allowed, saying why', (status: RelationshipStatus) => {
    const refused = refusal(() => requireStatus(state({ status }), ['active'], 'terminate'));
    expect(refused.status).toBe(status);
    if (['declined', 'invitationExpired', 'withdrawn', 'terminated', 'expired'].includes(status)) {
      expect(refused).toMatchObject({ reason: 'alreadyEnded', message: `Cannot terminate: the relationship has ended (${status}).` });
    } else {
      expect(refused).toMatchObject({ reason: 'invalidState', message: `Cannot terminate while the relationship is ${status}.` });
    }
    expect('retryAfterSeconds' in refused).toBe(false);
  });
});

describe('requireOpenInvitation', () => {
  it('allows a valid id while invited', () => {
    expect(() => requireOpenInvitation(state({}, { validIds: ['inv-1', 'inv-2'] }), 'inv-2')).not.toThrow();
  });

  it('refuses an expired invitation, an answered one and a replaced link, in that order', () => {
    expect(refusal(() => requireOpenInvitation(state({ status: 'invitationExpired' }), 'inv-1')).reason).toBe('invitationExpired');
    expect(refusal(() => requireOpenInvitation(state({ status: 'active' }), 'inv-1'))).toMatchObject({
      reason: 'invitationUsed',
      message: 'This invitation was already answered (the relationship is active).',
    });
    // An answered invitation is "used" even for an id that was never valid.
    expect(refusal(() => requireOpenInvitation(state({ status: 'declined' }), 'nope')).reason).toBe('invitationUsed');
    expect(refusal(() => requireOpenInvitation(state(), 'inv-0')).reason).toBe('invitationSuperseded');
  });
});

describe('requireResendAllowed', () => {
  const sentAt = Date.parse('2025-06-01T12:00:00.000Z');
  const policy: RelationshipPolicy = { ...defaultPolicy, resendCooldownMs: 10 * MINUTE, resendsPerInvitation: 2 };

  it('counts the cooldown from the offer, then from the last resend', () => {
    const refused = refusal(() => requireResendAllowed(state(), policy, sentAt + 4 * MINUTE));
    expect(refused).toMatchObject({ reason: 'resendCooldown', retryAfterSeconds: 360 });
    expect(refused.message).toBe('The invitation was sent recently; it can be sent again in 360 s.');
    expect(() => requireResendAllowed(state(), policy, sentAt + 10 * MINUTE)).not.toThrow();

    const resent = state({}, { round: 1, resentAt: new Date(sentAt + DAY).toISOString() });
    expect(refusal(() => requireResendAllowed(resent, policy, sentAt + DAY + 1)).retryAfterSeconds).toBe(600);
    expect(() => requireResendAllowed(resent, policy, sentAt + DAY + 10 * MINUTE)).not.toThrow();
  });

  it('rounds the wait up to whole seconds', () => {
    expect(refusal(() => requireResendAllowed(state(), policy, sentAt + 10 * MINUTE - 1)).retryAfterSeconds).toBe(1);
  });

  it('refuses once the invitation was resent as often as allowed, before looking at the cooldown', () => {
    const refused = refusal(() => requireResendAllowed(state({}, { round: 2 }), policy, sentAt + 30 * DAY));
    expect(refused).toMatchObject({ reason: 'resendLimit', message: 'This invitation was already sent again 2 times, the most allowed (2).' });
    expect(refusal(() => requireResendAllowed(state(), { ...policy, resendsPerInvitation: 0 }, sentAt + DAY)).reason).toBe('resendLimit');
  });

  it('applies the default limits to a policy that predates them (5 resends, 10 minutes)', () => {
    expect(refusal(() => requireResendAllowed(state(), defaultPolicy, sentAt + 9 * MINUTE)).retryAfterSeconds).toBe(60);
    expect(() => requireResendAllowed(state({}, { round: 4 }), defaultPolicy, sentAt + DAY)).not.toThrow();
    expect(refusal(() => requireResendAllowed(state({}, { round: 5 }), defaultPolicy, sentAt + DAY)).reason).toBe('resendLimit');
  });

  it('a cooldown of zero never refuses', () => {
    expect(() => requireResendAllowed(state(), { ...policy, resendCooldownMs: 0 }, sentAt)).not.toThrow();
  });
});

describe('requireAutoExtendChangeAllowed', () => {
  it('allows changes up to the limit, then refuses naming it', () => {
    const policy = { ...defaultPolicy, autoExtendChangesPerRelationship: 3 };
    expect(() => requireAutoExtendChangeAllowed(state(), policy)).not.toThrow();
    expect(() => requireAutoExtendChangeAllowed(state({ autoExtendChanges: 2 }), policy)).not.toThrow();
    expect(refusal(() => requireAutoExtendChangeAllowed(state({ autoExtendChanges: 3 }), policy))).toMatchObject({
      reason: 'autoExtendLimit',
      message: 'Auto-extend was already changed 3 times, the most allowed (3).',
    });
    expect(() => requireAutoExtendChangeAllowed(state({ autoExtendChanges: 9 }), defaultPolicy)).not.toThrow();
    expect(refusal(() => requireAutoExtendChangeAllowed(state({ autoExtendChanges: 10 }), defaultPolicy)).reason).toBe('autoExtendLimit');
  });
});
