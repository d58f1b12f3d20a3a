import { Prisma } from '../generated/prisma/client.js';
import type { Database } from '../infra/database.js';
import { AppError } from '../http/errors.js';

// A partner may have at most `max` invitations waiting for an answer. The count lives on the
// partner's row, kept by triggers on `relationships` (migration 20261203160000), so it follows
// every answer, withdrawal, expiry and purge whoever writes it. An offer's INSERT takes its place
// in the same statement (offerInsert.ts): it updates the partner's row only while `roomSql`
// holds, and PostgreSQL re-checks that condition against the newest row after waiting for the
// row's lock, so two concurrent offers cannot both take the last place.

export interface PendingInvitationCapOptions {
  db: Database;
  max: number;
}

export function createPendingInvitationCap({ db, max }: PendingInvitationCapOptions) {
  /** A condition on the partner's row: it may have one more invitation waiting. */
  const roomSql = Prisma.sql`pending_invitations < ${max}::int`;

  /** The 429 for an offer that found no place: how many wait, and when the earliest expires. */
  async function refusal(partnerId: string, pending: number): Promise<AppError> {
    const earliest = await db.relationship.findFirst({
      where: { partnerId, status: 'invited' },
      orderBy: { invitationExpiresAt: 'asc' },
      select: { invitationExpiresAt: true },
    });
    const retryAfterSeconds = Math.max(1, Math.ceil(((earliest?.invitationExpiresAt?.getTime() ?? Date.now()) - Date.now()) / 1000));
    return new AppError('pendingInvitationLimit', `At most ${max} invitations may wait for an answer at once.`, { limit: max, pending, retryAfterSeconds });
  }

  return { roomSql, refusal };
}

export type PendingInvitationCap = ReturnType<typeof createPendingInvitationCap>;
