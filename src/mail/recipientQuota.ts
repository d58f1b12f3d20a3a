import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { HOUR_MS, hourOf, takeFromHour } from '../infra/hourlyQuota.js';
import { customerRequested, isToPartner, type MailJob } from './mailJob.js';

// Any one address gets at most `perHour` emails an hour from partnerflow, whoever
// causes them (several partners inviting one contact, reminders, notifications).
// Emails over the quota wait for the next hour instead of being dropped: nothing
// is lost and no sender learns that others write to that address. Emails the
// recipient asked for themself (sign-in, domain verification, admin confirmation)
// are never held back, so a flood cannot lock an admin out; those have their own
// per-organisation limits (SIGN_IN_EMAILS_PER_HOUR). Nor is a partner's news of its
// own relationships (isToPartner): that volume is the partner's own.
//
// An email is counted when it is queued (mailAdmission.ts, in the same round trip as its
// priority); one held back then is counted again by the worker in the hour it runs (`take`).

/** The key of the address's count for the hour of `now`, or null for an email the quota does not hold back. */
export function recipientQuotaKey(prefix: string, job: MailJob, now: number): string | null {
  if (customerRequested.has(job.template) || isToPartner(job)) return null;
  // The address is hashed: key names show up in tools that print keys.
  const address = createHash('sha256').update(job.to.trim().toLowerCase()).digest('hex').slice(0, 32);
  return `${prefix}:mail-recipient:${address}:${hourOf(now)}`;
}

/** When an email over the quota may go: spread over the first minute of the next hour, so they don't all wake at once. */
export const heldUntil = (now: number) => (hourOf(now) + 1) * HOUR_MS + Math.floor(Math.random() * 60_000);

// Counts only emails that may go: the deferred ones are counted again in the hour they run.
export function createRecipientQuota(redis: Redis, prefix: string, perHour: number) {
  return {
    /** null: send now. A timestamp: the job should wait until then. */
    async take(job: MailJob, now = Date.now()): Promise<number | null> {
      const key = recipientQuotaKey(prefix, job, now);
      if (key === null || (await takeFromHour(redis, key, perHour))) return null;
      return heldUntil(now);
    },
  };
}
