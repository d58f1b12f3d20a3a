import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { withPermanentFailuresTyped } from '../../src/activities/permanentFailures.js';
import { permanentActivityFailures } from '../../src/contract/activityFailures.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import type { Database } from '../../src/infra/database.js';

// Which activity errors become non-retryable (no retry can heal them) and which stay retryable.

/** A database that answers only the one question the wrapper asks: does this relationship exist? */
const databaseWith = (relationships: number) => ({ relationship: { count: () => Promise.resolve(relationships) } }) as unknown as Database;

const failingWith = (err: Error, relationships = 1) =>
  withPermanentFailuresTyped(databaseWith(relationships), { write: (_input: { relationshipId: string }) => Promise.reject(err) }).write;

const prismaError = (code: string) => new Prisma.PrismaClientKnownRequestError('Invalid call\nForeign key constraint violated', { code, clientVersion: 'test' });

async function failureOf(activity: (input: { relationshipId: string }) => Promise<unknown>): Promise<unknown> {
  return activity({ relationshipId: '7f1c2a0e-3b4d-4c5e-9f60-718293a4b5c6' }).then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('activity errors no retry can heal', () => {
  it('a foreign-key violation is non-retryable ForeignKeyViolation', async () => {
    expect(await failureOf(failingWith(prismaError('P2003')))).toMatchObject({ type: permanentActivityFailures.foreignKeyViolation, nonRetryable: true });
  });

  it('a missing record is non-retryable RecordNotFound', async () => {
    expect(await failureOf(failingWith(prismaError('P2025')))).toMatchObject({ type: permanentActivityFailures.recordNotFound, nonRetryable: true });
  });

  it('any error about a relationship that does not exist is non-retryable RecordNotFound', async () => {
    const failure = await failureOf(failingWith(new Error('audit event: no relationship'), 0));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: permanentActivityFailures.recordNotFound, nonRetryable: true });
  });

  it('a passing outage stays retryable, and Temporal failures pass through unchanged', async () => {
    const outage = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    expect(await failureOf(failingWith(outage))).toBe(outage);
    expect(await failureOf(failingWith(prismaError('P1001')))).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    const cancelled = new CancelledFailure('cancelled');
    expect(await failureOf(failingWith(cancelled, 0))).toBe(cancelled);
  });

  it('results pass through', async () => {
    const activities = withPermanentFailuresTyped(databaseWith(1), { read: (input: { n: number }) => Promise.resolve(input.n * 2) });
    expect(await activities.read({ n: 21 })).toBe(42);
  });
});
