import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { STEP_REFUSED, type StepRefusal } from '../contract/messages.js';
import { AppError } from './errors.js';

/** The typed refusal a workflow validator threw, if that is what this error is. */
export function stepRefusalOf(err: unknown): StepRefusal | undefined {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const cause = err.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== STEP_REFUSED) return undefined;
  return cause.details?.[0] as StepRefusal | undefined;
}

export function toStepError(err: unknown): unknown {
  const refusal = stepRefusalOf(err);
  if (refusal) return new AppError('stepRefused', refusal.message, { reason: refusal.reason, currentStatus: refusal.status });
  if (err instanceof WorkflowNotFoundError) return new AppError('notFound', 'No running workflow for this relationship.');
  return err;
}
