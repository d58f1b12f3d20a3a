// ApplicationFailure types of activity errors that no retry can heal. Activities
// throw them non-retryable (src/activities/permanentFailures.ts) and the workflow's
// retry policies list them too, so a retry never waits out a timeout for them.

export const permanentActivityFailures = {
  /** A row the write refers to does not exist (a workflow whose relationship row is missing). */
  foreignKeyViolation: 'ForeignKeyViolation',
  /** A row the activity must read does not exist. */
  recordNotFound: 'RecordNotFound',
  /** The activity's input cannot be right however often it is tried. */
  invalidInput: 'InvalidActivityInput',
  /** The trial was cancelled (its relationship ended) before the provider answered. */
  trialCancelled: 'TrialCancelled',
} as const;

export type PermanentActivityFailure = (typeof permanentActivityFailures)[keyof typeof permanentActivityFailures];

export const permanentActivityFailureTypes: PermanentActivityFailure[] = Object.values(permanentActivityFailures);
