import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { customerRequested, isToPartner, type MailJob } from './mailJob.js';

// Any one address gets at most `perHour` emails an hour from partnerflow, whoever
// causes them (several partners inviting one contact, reminders, notifications).
// Emails over the quota wait for the next hour instead of being dropped: nothing
// is lost and no sender learns that others write to that address. Emails the
// recipient asked for themself (sign-in, domain verification, admin confirmation)
// are never held back, so a flood cannot lock an admin out; those have their own
// per-organisation limits (SIGN_IN_EMAILS_PER_HOUR). Nor is a partner's news of its
// own relationships (isToPartner): that volume is the partner's own.

const HOUR_MS = 3_600_000;

// Counts only emails that may go: the deferred ones are counted again in the hour they run.
const TAKE_SCRIPT = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

export function createRecipientQuota(redis: Redis, prefix: string, perHour: number) {
  return {
    /** null: send now. A timestamp: the job should wait until then. */
    async take(job: MailJob, now = Date.now()): Promise<number | null> {
      if (customerRequested.has(job.template) || isToPartner(job)) return null;
      const hour = Math.floor(now / HOUR_MS);
      // The address is hashed: key names show up in tools that print keys.
      const address = createHash('sha256').update(job.to.trim().toLowerCase()).digest('hex').slice(0, 32);
      const allowed = await redis.eval(TAKE_SCRIPT, 1, `${prefix}:mail-recipient:${address}:${hour}`, String(perHour), String(2 * HOUR_MS));
      if (allowed === 1) return null;
      // Spread over the first minute of the next hour, so deferred emails don't all wake at once.
      return (hour + 1) * HOUR_MS + Math.floor(Math.random() * 60_000);
    },
  };
}
