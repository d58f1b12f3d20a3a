import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { permanentActivityFailures } from '../contract/activityFailures.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Database } from '../infra/database.js';

// Errors no retry can heal become non-retryable ApplicationFailures with a type
// the workflow knows (src/contract/activityFailures.ts); everything else stays
// retryable. Without this, a write for a relationship whose row is gone (an
// orphaned workflow) failed with a foreign-key error on every retry, forever.

const byPrismaCode: Record<string, string> = {
  P2003: permanentActivityFailures.foreignKeyViolation,
  P2025: permanentActivityFailures.recordNotFound,
};

async function classify(db: Database, input: unknown, err: unknown): Promise<unknown> {
  if (err instanceof TemporalFailure) return err;
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    const type = byPrismaCode[err.code];
    if (type) return ApplicationFailure.nonRetryable(err.message.split('\n').at(-1) ?? err.code, type);
  }
  // Whatever the error, an activity about a relationship that does not exist can never succeed.
  const relationshipId = typeof input === 'object' && input !== null && 'relationshipId' in input ? input.relationshipId : undefined;
  if (typeof relationshipId === 'string') {
    const found = await db.relationship.count({ where: { id: relationshipId } }).catch(() => undefined);
    if (found === 0) return ApplicationFailure.nonRetryable(`relationship ${relationshipId} does not exist`, permanentActivityFailures.recordNotFound);
  }
  return err;
}

type Activity = (input: never) => Promise<unknown>;

/** The same activities, each throwing permanent failures as non-retryable. */
export function withPermanentFailuresTyped<T extends Record<string, Activity>>(db: Database, activities: T): T {
  const wrapped: Record<string, Activity> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (input: never) => {
      try {
        return await activity(input);
      } catch (err) {
        throw await classify(db, input, err);
      }
    };
  }
  return wrapped as T;
}
