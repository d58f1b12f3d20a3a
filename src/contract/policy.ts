// Every wait in the workflow comes from this policy in its input, so tests run
// the same code with seconds where production uses days.
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
}

const DAY = 24 * 60 * 60 * 1000;

export const defaultPolicy: RelationshipPolicy = {
  invitationTtlMs: 14 * DAY,
  reminderBeforeExpiryMs: 3 * DAY,
  durationMs: 730 * DAY,
  warningsBeforeEndMs: [30 * DAY, 7 * DAY, 1 * DAY],
  autoExtendByMs: 180 * DAY,
  trialProvisioningAttempts: 5,
};
