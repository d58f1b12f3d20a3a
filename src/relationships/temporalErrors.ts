import { ServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { STEP_REFUSED, type StepRefusal } from '../contract/messages.js';
import { isEnded, type RelationshipStatus } from '../contract/statuses.js';
import { AppError } from '../http/errors.js';

/** The typed refusal a workflow validator threw, if that is what this error is. */
export function stepRefusalOf(err: unknown): StepRefusal | undefined {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const cause = err.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== STEP_REFUSED) return undefined;
  return cause.details?.[0] as StepRefusal | undefined;
}

/** Maps a failed update to the API's errors; `readModelStatus` is what the read model last said. */
export function toStepError(err: unknown, readModelStatus?: string): unknown {
  const refusal = stepRefusalOf(err);
  if (refusal?.retryAfterSeconds !== undefined) {
    // A cooldown passes by itself: 429 with Retry-After, unlike a refusal the state makes final (409).
    return new AppError('stepCoolingDown', refusal.message, {
      reason: refusal.reason,
      currentStatus: refusal.status,
      retryAfterSeconds: refusal.retryAfterSeconds,
    });
  }
  if (refusal) return new AppError('stepRefused', refusal.message, { reason: refusal.reason, currentStatus: refusal.status });
  if (err instanceof WorkflowNotFoundError) {
    // An ended relationship's workflow has completed; the step is refused like any other on an ended one.
    if (readModelStatus && isEnded(readModelStatus as RelationshipStatus)) {
      return new AppError('stepRefused', `The relationship has already ended (${readModelStatus}).`, {
        reason: 'alreadyEnded',
        currentStatus: readModelStatus,
      });
    }
    return new AppError('notFound', 'No running workflow for this relationship.');
  }
  // Temporal not answering (or no worker taking the update in time) is worth a retry, not a 500.
  if (err instanceof ServiceError || err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new AppError('unavailable', 'The workflow service did not answer in time; try again.', { retryAfterSeconds: 5 });
  }
  return err;
}
