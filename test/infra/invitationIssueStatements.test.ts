import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createInvitationActivities } from '../../src/activities/issueInvitation.js';
import { linkFor } from '../../src/infra/linkTokens.js';
import { createLogger } from '../../src/infra/logger.js';
import { createMailOutbox } from '../../src/mail/mailOutbox.js';
import { createMailQueue } from '../../src/mail/mailQueue.js';
import { countingDatabase, listed } from '../support/countingDatabase.js';

// The first invitation of an onboarding: issue 13 asks for few statements per
// onboarding, so the link's row and its email's outbox row are written in one
// statement (hand-written SQL beside the model API's). What they write must be
// what the model API would have: the link's hash and expiry, the email's row
// with the job it hands to the queue, timestamps in UTC as the sweeper compares
// them; and a retry must add nothing.

const LINK_SECRET = 'issue-statements-link-secret-0123456789abcdef';
const { db, statementsOf, close } = countingDatabase();
const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
const prefix = `pf-issue-${randomUUID().slice(0, 8)}`;
const log = createLogger({ level: 'silent', pretty: false });
const queue = createMailQueue(redis, prefix, log);
const mail = createMailOutbox(db, queue, { recipientPerHour: 100, log });
const { issueInvitation } = createInvitationActivities(db, mail, LINK_SECRET);

afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
  redis.disconnect();
  await close();
});

async function offered() {
  const partner = await db.partner.create({ data: { name: 'Issue Partner', contactEmail: 'ops@issue.example', webhookSecret: 'not-used' } });
  const id = randomUUID();
  await db.relationship.create({
    data: { id, workflowId: `relationship-${id}`, partnerId: partner.id, tenantDomain: `t-${id.slice(0, 8)}.issue.example`, contactEmail: 'admin@issue.example', status: 'invited', roles: ['user-administrator'], policy: {}, liveKey: id },
  });
  return id;
}

describe('issuing the first invitation', () => {
  it('writes the link and its email’s row in one statement after one read, and a retry adds nothing', async () => {
    const relationshipId = await offered();
    const input = {
      workflowId: `relationship-${relationshipId}`,
      relationshipId,
      invitationId: randomUUID(),
      step: 1,
      purpose: 'invitation' as const,
      expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
      revokePrevious: false,
    };
    const before = Date.now();
    const { result, statements } = await statementsOf(() => issueInvitation(input));
    expect(statements.length, listed(statements)).toBeLessThanOrEqual(2);
    expect(result.invitationId).toBe(input.invitationId);

    const key = `${input.workflowId}-invitation-1`;
    const invitation = await db.invitation.findUniqueOrThrow({ where: { idempotencyKey: key } });
    expect(invitation.id).toBe(input.invitationId);
    expect(invitation.tokenHash).toBe(linkFor(LINK_SECRET, 'invitation', input.invitationId).tokenHash);
    expect(invitation.expiresAt.toISOString()).toBe(input.expiresAt);
    expect(invitation.recipientEmail).toBe('admin@issue.example');

    const email = await db.emailMessage.findUniqueOrThrow({ where: { jobId: key } });
    expect(email).toMatchObject({ status: 'queued', template: 'invitation', toAddress: 'admin@issue.example', relationshipId, attempts: 0 });
    // The sweeper finds rows by updated_at: written as UTC, it is now, not hours off.
    expect(Math.abs(email.updatedAt.getTime() - before)).toBeLessThan(60_000);
    expect(Math.abs(email.createdAt.getTime() - before)).toBeLessThan(60_000);
    const job = await queue.getJob(key);
    expect(job?.data).toEqual(email.job);

    // The activity retried (its result lost): the same link, no second row, no second job.
    expect((await issueInvitation(input)).invitationId).toBe(input.invitationId);
    expect(await db.invitation.count({ where: { relationshipId } })).toBe(1);
    expect(await db.emailMessage.count({ where: { relationshipId } })).toBe(1);
    expect(await queue.getJobCounts('waiting', 'prioritized', 'delayed')).toSatisfy((counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0) === 1);
  });
});
