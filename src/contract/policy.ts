// Every wait in the workflow comes from this policy in its input, so tests run
// the same code with seconds where production uses days. The ranges below are
// the one definition of what a policy may hold: the API refuses a request
// outside them (400) and the workflow checks its own input against them, so an
// input that bypassed the API ends the relationship instead of failing forever.
// Plain TypeScript: the workflow bundle imports this file.

export interface RelationshipPolicy {
  invitationTtlMs: number;
  /** How long before the invitation expires the reminder goes out. */
  reminderBeforeExpiryMs: number;
  durationMs: number;
  /** Warnings before the end, longest first (for example 30, 7 and 1 days). */
  warningsBeforeEndMs: number[];
  autoExtendByMs: number;
  /** Attempts at trial provisioning before the trial is marked failed. */
  trialProvisioningAttempts: number;
  /**
   * Operator limits the API writes into every offer (partners cannot set them).
   * Optional: inputs of workflows started before they existed lack them, and the
   * workflow then applies `defaultOperatorLimits`.
   */
  resendCooldownMs?: number;
  resendsPerInvitation?: number;
  autoExtendChangesPerRelationship?: number;
  /**
   * History events a run may reach while it waits (invited or active) before it continues as
   * new, besides Temporal's own suggestion; absent: Temporal's suggestion alone. Signals count,
   * so without it a signal flood would grow one run's history without bound.
   */
  historyEventsBeforeContinueAsNew?: number;
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** A year as the `ms` short form counts it ("1y" = 365.25 days), so "2y" and 2 years agree. */
export const YEAR = 365.25 * DAY;

export const defaultPolicy: RelationshipPolicy = {
  invitationTtlMs: 14 * DAY,
  reminderBeforeExpiryMs: 3 * DAY,
  durationMs: 730 * DAY,
  warningsBeforeEndMs: [30 * DAY, 7 * DAY, 1 * DAY],
  autoExtendByMs: 180 * DAY,
  trialProvisioningAttempts: 5,
};

export interface Range {
  min: number;
  max: number;
}

export type DurationField = 'invitationTtlMs' | 'reminderBeforeExpiryMs' | 'durationMs' | 'warningsBeforeEndMs' | 'autoExtendByMs';

/** The range of each duration a partner may set (each warning is checked alone). */
export const durationRanges: Record<DurationField, Range> = {
  invitationTtlMs: { min: HOUR, max: 90 * DAY },
  reminderBeforeExpiryMs: { min: MINUTE, max: 90 * DAY },
  durationMs: { min: DAY, max: 2 * YEAR },
  warningsBeforeEndMs: { min: HOUR, max: 2 * YEAR },
  autoExtendByMs: { min: DAY, max: 2 * YEAR },
};

/**
 * The lowest any duration may be when the operator allows short durations
 * (ALLOW_SHORT_DURATIONS, for demos and tests). The workflow, which cannot
 * know the operator's setting, checks minimums against this floor.
 */
export const SHORT_DURATION_MIN_MS = SECOND;

export const countRanges = {
  warningsBeforeEnd: { min: 0, max: 5 },
  trialProvisioningAttempts: { min: 1, max: 20 },
  trialSeats: { min: 1, max: 100_000 },
  trialDays: { min: 1, max: 365 },
} as const satisfies Record<string, Range>;

export interface OperatorLimits {
  resendCooldownMs: number;
  resendsPerInvitation: number;
  autoExtendChangesPerRelationship: number;
}

/** One resend per 10 minutes, 5 per invitation, 10 auto-extend changes per relationship. */
export const defaultOperatorLimits: OperatorLimits = {
  resendCooldownMs: 10 * MINUTE,
  resendsPerInvitation: 5,
  autoExtendChangesPerRelationship: 10,
};

const operatorLimitRanges: Record<keyof OperatorLimits, Range> = {
  resendCooldownMs: { min: 0, max: 30 * DAY },
  resendsPerInvitation: { min: 0, max: 100 },
  autoExtendChangesPerRelationship: { min: 0, max: 1000 },
};

/** The operator limits an offer carries, with defaults for inputs that predate them. */
export function operatorLimitsOf(policy: RelationshipPolicy): OperatorLimits {
  return {
    resendCooldownMs: policy.resendCooldownMs ?? defaultOperatorLimits.resendCooldownMs,
    resendsPerInvitation: policy.resendsPerInvitation ?? defaultOperatorLimits.resendsPerInvitation,
    autoExtendChangesPerRelationship: policy.autoExtendChangesPerRelationship ?? defaultOperatorLimits.autoExtendChangesPerRelationship,
  };
}

export const historyEventsRange: Range = { min: 50, max: 50_000 };

/** "1 hour", "90 days", "2 years": the largest unit that divides the value exactly. */
export function describeDuration(ms: number): string {
  const units: [number, string][] = [
    [YEAR, 'year'],
    [DAY, 'day'],
    [HOUR, 'hour'],
    [MINUTE, 'minute'],
    [SECOND, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${name}${ms === size ? '' : 's'}`;
  }
  return `${ms} ms`;
}

export const rangeMessage = (range: Range, describe: (n: number) => string = String) =>
  `must be between ${describe(range.min)} and ${describe(range.max)}`;

/** A duration's range, with the minimum lowered to the floor when short durations are allowed. */
export function durationRange(field: DurationField, allowShort: boolean): Range {
  const range = durationRanges[field];
  return allowShort ? { min: SHORT_DURATION_MIN_MS, max: range.max } : range;
}

export interface PolicyProblem {
  field: string;
  message: string;
}

const inRange = (value: unknown, { min, max }: Range): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;

const isCount = (value: unknown, range: Range): value is number => Number.isSafeInteger(value) && inRange(value, range);

/**
 * The first thing wrong with a workflow's policy and trial, or undefined. The
 * workflow cannot know the operator's minimums, so it checks every maximum and
 * the short-duration floor: enough that every date it computes is valid.
 */
export function policyProblem(policy: RelationshipPolicy | undefined, trial?: { seats: unknown; days: unknown }): PolicyProblem | undefined {
  if (typeof policy !== 'object' || policy === null) return { field: 'policy', message: 'is missing' };
  const durations: Exclude<DurationField, 'warningsBeforeEndMs'>[] = ['invitationTtlMs', 'reminderBeforeExpiryMs', 'durationMs', 'autoExtendByMs'];
  for (const field of durations) {
    const range = durationRange(field, true);
    if (!inRange(policy[field], range)) return { field, message: rangeMessage(range, describeDuration) };
  }
  const warnings: unknown = policy.warningsBeforeEndMs;
  if (!Array.isArray(warnings) || !isCount(warnings.length, countRanges.warningsBeforeEnd)) {
    return { field: 'warningsBeforeEndMs', message: `must be a list of at most ${countRanges.warningsBeforeEnd.max} durations` };
  }
  const warningRange = durationRange('warningsBeforeEndMs', true);
  if (!warnings.every((w) => inRange(w, warningRange))) return { field: 'warningsBeforeEndMs', message: `each ${rangeMessage(warningRange, describeDuration)}` };
  if (!isCount(policy.trialProvisioningAttempts, countRanges.trialProvisioningAttempts)) {
    return { field: 'trialProvisioningAttempts', message: rangeMessage(countRanges.trialProvisioningAttempts) };
  }
  for (const field of Object.keys(operatorLimitRanges) as (keyof OperatorLimits)[]) {
    const value = policy[field];
    if (value !== undefined && !isCount(value, operatorLimitRanges[field])) return { field, message: rangeMessage(operatorLimitRanges[field]) };
  }
  const historyEvents = policy.historyEventsBeforeContinueAsNew;
  if (historyEvents !== undefined && !isCount(historyEvents, historyEventsRange)) {
    return { field: 'historyEventsBeforeContinueAsNew', message: rangeMessage(historyEventsRange) };
  }
  if (trial && !isCount(trial.seats, countRanges.trialSeats)) return { field: 'trial.seats', message: rangeMessage(countRanges.trialSeats) };
  if (trial && !isCount(trial.days, countRanges.trialDays)) return { field: 'trial.days', message: rangeMessage(countRanges.trialDays) };
  return undefined;
}

/** Latest instant a JavaScript Date can hold (±8.64e15 ms from 1970). */
const MAX_DATE_MS = 8.64e15;

/**
 * `from + ms` as an ISO string, or undefined when that is not a valid date
 * (`new Date(...).toISOString()` would throw a RangeError and, in a workflow,
 * fail its task on every retry).
 */
export function addDuration(fromMs: number, ms: unknown): string | undefined {
  if (typeof ms !== 'number' || !Number.isFinite(fromMs)) return undefined;
  const at = fromMs + ms;
  return Number.isFinite(at) && Math.abs(at) <= MAX_DATE_MS ? new Date(at).toISOString() : undefined;
}
