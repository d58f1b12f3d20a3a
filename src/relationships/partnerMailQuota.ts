import { Prisma } from '../generated/prisma/client.js';
import type { Database } from '../infra/database.js';
import { HOUR_MS, hourOf } from '../infra/hourlyQuota.js';
import { AppError } from '../http/errors.js';

// Per-partner mail quota (issue 10, item 3): the invitation emails a partner causes
// (each offer and each resend sends one) are counted per clock hour on the partner's
// row. Beyond PARTNER_MAIL_PER_HOUR the call is refused with 429 `partnerMailQuota`
// before anything is written or sent, so the partner learns at once and nothing
// waits in a queue for hours. An offer is charged in the statement that inserts it
// (offerInsert.ts), so a refused offer costs nothing; a resend is charged first and
// given its point back if it fails.

export interface PartnerMailQuotaOptions {
  db: Database;
  perHour: number;
}

export function createPartnerMailQuota({ db, perHour }: PartnerMailQuotaOptions) {
  /** The clock hour a call made now is charged to. */
  const hourNow = () => hourOf(Date.now());

  // The count only moves forward in time: an API process whose clock is behind another's charges
  // the later hour's count instead of starting its own hour over (which would give a partner a
  // fresh quota each time two processes' clocks disagreed at the turn of an hour).
  /** A condition on the partner's row: it may send one more this hour. */
  const roomSql = (hour: number) => Prisma.sql`(mail_hour < ${hour}::int OR mail_sent < ${perHour}::int)`;
  /** Assignments that charge one email to the partner's hour (its count starts again in a new hour). */
  const chargeSql = (hour: number) =>
    Prisma.sql`mail_sent = CASE WHEN mail_hour >= ${hour}::int THEN mail_sent + 1 ELSE 1 END, mail_hour = GREATEST(mail_hour, ${hour}::int)`;

  const spent = (row: { mailHour: number; mailSent: number }, hour: number) => row.mailHour >= hour && row.mailSent >= perHour;

  function refusal(hour: number): AppError {
    const retryAfterSeconds = Math.max(1, Math.ceil(((hour + 1) * HOUR_MS - Date.now()) / 1000));
    return new AppError('partnerMailQuota', `At most ${perHour} invitation emails (offers and resends) per hour; retry in ${retryAfterSeconds} s.`, {
      limit: perHour,
      retryAfterSeconds,
    });
  }

  async function refund(partnerId: string, hour: number): Promise<void> {
    // Best effort: a point not given back only makes the quota stricter for the rest of the hour.
    await db.$executeRaw`UPDATE partners SET mail_sent = mail_sent - 1 WHERE id = ${partnerId}::uuid AND mail_hour >= ${hour}::int AND mail_sent > 0`.catch(() => undefined);
  }

  /** Runs `send` (a step that emails an invitation) within the partner's quota. */
  async function within<T>(partnerId: string, send: () => Promise<T>): Promise<T> {
    const hour = hourNow();
    const charged = await db.$executeRaw`UPDATE partners SET ${chargeSql(hour)} WHERE id = ${partnerId}::uuid AND ${roomSql(hour)}`;
    if (charged === 0) throw refusal(hour);
    try {
      return await send();
    } catch (err) {
      await refund(partnerId, hour);
      throw err;
    }
  }

  return { hourNow, roomSql, chargeSql, spent, refusal, refund, within };
}

export type PartnerMailQuota = ReturnType<typeof createPartnerMailQuota>;

