import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDuration,
  countRanges,
  DAY,
  defaultOperatorLimits,
  defaultPolicy,
  describeDuration,
  durationRange,
  durationRanges,
  HOUR,
  MINUTE,
  operatorLimitsOf,
  policyProblem,
  rangeMessage,
  SECOND,
  SHORT_DURATION_MIN_MS,
  YEAR,
  type DurationField,
  type RelationshipPolicy,
} from '../../src/contract/policy.js';
import { roleCatalog, roleIds, roleName } from '../../src/contract/roles.js';
import { endStatuses, isEnded, liveAfterAcceptance, relationshipStatuses } from '../../src/contract/statuses.js';

// The policy module is the one definition of what an offer may hold: the API
// refuses outside these ranges and the workflow checks its own input with them.

const durationFields = Object.keys(durationRanges) as DurationField[];

describe('describeDuration', () => {
  it.each([
    [SECOND, '1 second'],
    [30 * SECOND, '30 seconds'],
    [MINUTE, '1 minute'],
    [90 * MINUTE, '90 minutes'],
    [HOUR, '1 hour'],
    [36 * HOUR, '36 hours'],
    [DAY, '1 day'],
    [90 * DAY, '90 days'],
    [730 * DAY, '730 days'],
    [YEAR, '1 year'],
    [2 * YEAR, '2 years'],
    [1500, '1500 ms'],
    [0, '0 ms'],
  ])('%d ms is "%s": the largest unit that divides it exactly', (ms, words) => {
    expect(describeDuration(ms)).toBe(words);
  });

  it('reads back as the same number of milliseconds for any whole number of seconds', () => {
    const unitMs: Record<string, number> = { year: YEAR, day: DAY, hour: HOUR, minute: MINUTE, second: SECOND };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 * 366 * 86_400 }), (seconds) => {
        const match = /^(\d+) (year|day|hour|minute|second)s?$/.exec(describeDuration(seconds * SECOND));
        expect(match).not.toBeNull();
        const [, count, unit] = match ?? [];
        expect(Number(count) * (unitMs[unit ?? ''] ?? NaN)).toBe(seconds * SECOND);
      }),
      { seed: 6001, numRuns: 500 },
    );
  });
});

describe('ranges', () => {
  it('rangeMessage names both ends, in words when given a describer', () => {
    expect(rangeMessage({ min: 1, max: 20 })).toBe('must be between 1 and 20');
    expect(rangeMessage(durationRanges.durationMs, describeDuration)).toBe('must be between 1 day and 2 years');
    expect(rangeMessage(durationRanges.invitationTtlMs, describeDuration)).toBe('must be between 1 hour and 90 days');
    expect(rangeMessage(durationRanges.reminderBeforeExpiryMs, describeDuration)).toBe('must be between 1 minute and 90 days');
  });

  it.each(durationFields)('%s: production range unchanged without short durations; only the minimum drops to 1 s with them', (field) => {
    expect(durationRange(field, false)).toEqual(durationRanges[field]);
    expect(durationRange(field, true)).toEqual({ min: SHORT_DURATION_MIN_MS, max: durationRanges[field].max });
    expect(SHORT_DURATION_MIN_MS).toBe(SECOND);
  });

  it('the default policy lies inside every production range', () => {
    for (const field of durationFields) {
      const values = field === 'warningsBeforeEndMs' ? defaultPolicy.warningsBeforeEndMs : [defaultPolicy[field]];
      for (const value of values) {
        expect(value, field).toBeGreaterThanOrEqual(durationRanges[field].min);
        expect(value, field).toBeLessThanOrEqual(durationRanges[field].max);
      }
    }
    expect(defaultPolicy.reminderBeforeExpiryMs).toBeLessThan(defaultPolicy.invitationTtlMs);
    expect(defaultPolicy.warningsBeforeEndMs.every((w) => w < defaultPolicy.durationMs)).toBe(true);
    // Longest first, as the workflow sends them.
    expect([...defaultPolicy.warningsBeforeEndMs].sort((a, b) => b - a)).toEqual(defaultPolicy.warningsBeforeEndMs);
    expect(policyProblem(defaultPolicy)).toBeUndefined();
  });

  it('two years is 2 × 365.25 days, so "2y" and the maximum agree', () => {
    expect(durationRanges.durationMs.max).toBe(730.5 * DAY);
  });
});

describe('operatorLimitsOf', () => {
  it('fills the defaults for inputs that predate operator limits', () => {
    expect(operatorLimitsOf(defaultPolicy)).toEqual(defaultOperatorLimits);
    expect(defaultOperatorLimits).toEqual({ resendCooldownMs: 10 * MINUTE, resendsPerInvitation: 5, autoExtendChangesPerRelationship: 10 });
  });

  it('keeps every limit the offer carries, zero included', () => {
    const policy = { ...defaultPolicy, resendCooldownMs: 0, resendsPerInvitation: 0, autoExtendChangesPerRelationship: 3 };
    expect(operatorLimitsOf(policy)).toEqual({ resendCooldownMs: 0, resendsPerInvitation: 0, autoExtendChangesPerRelationship: 3 });
  });
});

describe('policyProblem: the workflow checking its own input', () => {
  const withPolicy = (change: Partial<Record<keyof RelationshipPolicy, unknown>>) => ({ ...defaultPolicy, ...change }) as RelationshipPolicy;

  it('refuses a missing policy', () => {
    expect(policyProblem(undefined)).toEqual({ field: 'policy', message: 'is missing' });
    expect(policyProblem(null as unknown as RelationshipPolicy)).toEqual({ field: 'policy', message: 'is missing' });
  });

  it.each(['invitationTtlMs', 'reminderBeforeExpiryMs', 'durationMs', 'autoExtendByMs'] as const)(
    '%s: accepts the short-duration floor and the maximum, refuses just outside them, NaN, Infinity and strings',
    (field) => {
      const { max } = durationRanges[field];
      const message = rangeMessage({ min: SECOND, max }, describeDuration);
      expect(policyProblem(withPolicy({ [field]: SECOND }))).toBeUndefined();
      expect(policyProblem(withPolicy({ [field]: max }))).toBeUndefined();
      for (const bad of [SECOND - 1, max + 1, 0, -DAY, Number.NaN, Number.POSITIVE_INFINITY, '14d', undefined]) {
        expect(policyProblem(withPolicy({ [field]: bad })), String(bad)).toEqual({ field, message });
      }
    },
  );

  it('warnings: a list of at most 5, each in range', () => {
    expect(policyProblem(withPolicy({ warningsBeforeEndMs: [] }))).toBeUndefined();
    expect(policyProblem(withPolicy({ warningsBeforeEndMs: Array.from({ length: 5 }, () => DAY) }))).toBeUndefined();
    const listMessage = { field: 'warningsBeforeEndMs', message: 'must be a list of at most 5 durations' };
    expect(policyProblem(withPolicy({ warningsBeforeEndMs: Array.from({ length: 6 }, () => DAY) }))).toEqual(listMessage);
    expect(policyProblem(withPolicy({ warningsBeforeEndMs: DAY }))).toEqual(listMessage);
    expect(policyProblem(withPolicy({ warningsBeforeEndMs: [DAY, 3 * YEAR] }))).toEqual({
      field: 'warningsBeforeEndMs',
      message: 'each must be between 1 second and 2 years',
    });
    expect(policyProblem(withPolicy({ warningsBeforeEndMs: [DAY, 0] }))?.field).toBe('warningsBeforeEndMs');
  });

  it('trial provisioning attempts: a whole number from 1 to 20', () => {
    expect(policyProblem(withPolicy({ trialProvisioningAttempts: 1 }))).toBeUndefined();
    expect(policyProblem(withPolicy({ trialProvisioningAttempts: 20 }))).toBeUndefined();
    for (const bad of [0, 21, 2.5, '5']) {
      expect(policyProblem(withPolicy({ trialProvisioningAttempts: bad }))).toEqual({ field: 'trialProvisioningAttempts', message: 'must be between 1 and 20' });
    }
  });

  it('operator limits are optional, but checked when present', () => {
    expect(policyProblem(withPolicy({ resendCooldownMs: 0, resendsPerInvitation: 100, autoExtendChangesPerRelationship: 1000 }))).toBeUndefined();
    expect(policyProblem(withPolicy({ resendsPerInvitation: 101 }))).toEqual({ field: 'resendsPerInvitation', message: 'must be between 0 and 100' });
    expect(policyProblem(withPolicy({ autoExtendChangesPerRelationship: -1 }))?.field).toBe('autoExtendChangesPerRelationship');
    expect(policyProblem(withPolicy({ resendCooldownMs: 31 * DAY }))?.field).toBe('resendCooldownMs');
    expect(policyProblem(withPolicy({ resendCooldownMs: 1.5 }))?.field).toBe('resendCooldownMs');
  });

  it('the trial, when given: seats 1..100000 and days 1..365, whole numbers', () => {
    expect(policyProblem(defaultPolicy, { seats: 1, days: 1 })).toBeUndefined();
    expect(policyProblem(defaultPolicy, { seats: countRanges.trialSeats.max, days: countRanges.trialDays.max })).toBeUndefined();
    expect(policyProblem(defaultPolicy, { seats: 0, days: 30 })).toEqual({ field: 'trial.seats', message: 'must be between 1 and 100000' });
    expect(policyProblem(defaultPolicy, { seats: 5, days: 366 })).toEqual({ field: 'trial.days', message: 'must be between 1 and 365' });
    expect(policyProblem(defaultPolicy, { seats: 5, days: 1.5 })?.field).toBe('trial.days');
    expect(policyProblem(defaultPolicy, { seats: '5', days: 30 })?.field).toBe('trial.seats');
  });
});

describe('addDuration', () => {
  it('adds milliseconds and returns an ISO string', () => {
    expect(addDuration(Date.UTC(2025, 0, 1), DAY)).toBe('2025-01-02T00:00:00.000Z');
    expect(addDuration(0, 0)).toBe('1970-01-01T00:00:00.000Z');
  });

  it('is undefined, never a thrown RangeError, for a sum no Date can hold or a non-number', () => {
    expect(addDuration(Date.now(), 8.64e15)).toBeUndefined();
    expect(addDuration(0, 8.64e15)).toBe(new Date(8.64e15).toISOString());
    expect(addDuration(0, 8.64e15 + 1)).toBeUndefined();
    expect(addDuration(0, Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(addDuration(0, Number.NaN)).toBeUndefined();
    expect(addDuration(Number.NaN, DAY)).toBeUndefined();
    expect(addDuration(0, '1d')).toBeUndefined();
    fc.assert(
      fc.property(fc.double(), fc.double(), (from, ms) => {
        const result = addDuration(from, ms);
        if (result !== undefined) expect(new Date(result).getTime()).toBe(new Date(from + ms).getTime());
      }),
      { seed: 6002, numRuns: 500 },
    );
  });
});

describe('statuses', () => {
  it('every end status is a status, and only those are ended', () => {
    for (const status of endStatuses) expect(relationshipStatuses).toContain(status);
    for (const status of relationshipStatuses) expect(isEnded(status), status).toBe(endStatuses.includes(status));
    expect(relationshipStatuses.filter(isEnded)).toEqual(['declined', 'invitationExpired', 'withdrawn', 'terminated', 'expired']);
  });

  it('the live statuses after acceptance are not ended and exclude invited', () => {
    expect(liveAfterAcceptance).toEqual(['accepted', 'provisioning', 'active']);
    for (const status of liveAfterAcceptance) expect(isEnded(status)).toBe(false);
    expect(isEnded('invited')).toBe(false);
  });
});

describe('roles', () => {
  it('ids are unique, stable kebab-case API values, each with a name and a description', () => {
    expect(new Set(roleIds).size).toBe(roleCatalog.length);
    expect(roleIds).toEqual(roleCatalog.map((role) => role.id));
    for (const role of roleCatalog) {
      expect(role.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(role.name.trim()).not.toBe('');
      expect(role.description).toMatch(/\.$/);
    }
    expect(roleIds).toContain('user-administrator');
    expect(roleIds).toContain('reports-reader');
  });

  it('roleName gives the display name, and the id itself for an unknown id', () => {
    expect(roleName('helpdesk-administrator')).toBe('Helpdesk administrator');
    expect(roleName('domain-administrator')).toBe('Domain name administrator');
    expect(roleName('global-administrator')).toBe('global-administrator');
  });
});
