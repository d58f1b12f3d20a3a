import { Prisma, type Relationship } from '../generated/prisma/client.js';
import { utcTimestamp } from '../infra/sqlTimestamp.js';
import type { Database } from '../infra/database.js';
import type { AppError } from '../http/errors.js';
import type { PartnerMailQuota } from './partnerMailQuota.js';
import type { PendingInvitationCap } from './pendingInvitationCap.js';

// An offer's row, inserted only while its partner is under its limits, in one statement: the
// partner's row is updated (its invitation email charged to the hour) only while it has room under
// the pending-invitation cap and the mail quota, and the triggers add the new invitation to the
// partner's count before the row's lock is let go. Raw SQL because Prisma's create cannot be made
// conditional on another table's row.

/** What an offer takes from its partner. */
export interface OfferLimits {
  pending: PendingInvitationCap;
  mail: PartnerMailQuota;
}

export interface OfferRow {
  id: string;
  workflowId: string;
  partnerId: string;
  tenantDomain: string;
  contactEmail: string;
  contactName: string | null;
  roles: string[];
  terms: string | null;
  autoExtend: boolean;
  policy: Prisma.InputJsonObject;
  trialOffer: Prisma.InputJsonObject | null;
  liveKey: string;
  invitationExpiresAt: Date;
}

type Executor = Pick<Prisma.TransactionClient, '$queryRaw'>;

/** The inserted row as the model API would read it, or null when the partner had no room (`refusalOf` says which limit). */
export async function insertOfferWithinLimits(db: Executor, limits: OfferLimits, row: OfferRow, hour: number): Promise<Relationship | null> {
  const now = utcTimestamp(new Date().toISOString());
  const rows = await db.$queryRaw<Relationship[]>`
    WITH slot AS (
      UPDATE partners SET ${limits.mail.chargeSql(hour)}
      WHERE id = ${row.partnerId}::uuid AND ${limits.pending.roomSql} AND ${limits.mail.roomSql(hour)}
      RETURNING id)
    INSERT INTO relationships (id, workflow_id, partner_id, tenant_domain, contact_email, contact_name, status, roles, terms,
                               auto_extend, policy, trial_offer, live_key, invitation_expires_at, version, created_at, updated_at)
    SELECT ${row.id}::uuid, ${row.workflowId}, slot.id, ${row.tenantDomain}, ${row.contactEmail}, ${row.contactName}::text, 'invited',
           ${row.roles}::text[], ${row.terms}::text, ${row.autoExtend}::boolean, ${JSON.stringify(row.policy)}::jsonb,
           ${row.trialOffer === null ? null : JSON.stringify(row.trialOffer)}::jsonb, ${row.liveKey},
           ${utcTimestamp(row.invitationExpiresAt.toISOString())}, 0, ${now}, ${now}
    FROM slot
    RETURNING id, workflow_id AS "workflowId", partner_id AS "partnerId", tenant_domain AS "tenantDomain",
              contact_email AS "contactEmail", contact_name AS "contactName", status, roles, terms, auto_extend AS "autoExtend",
              policy, trial_offer AS "trialOffer", live_key AS "liveKey", status_reason AS "statusReason",
              invitation_expires_at AS "invitationExpiresAt", accepted_at AS "acceptedAt", activated_at AS "activatedAt",
              ends_at AS "endsAt", ended_at AS "endedAt", version, created_at AS "createdAt", updated_at AS "updatedAt"`;
  return rows[0] ?? null;
}

/** Why an offer found no room: the mail quota if that is spent, else the pending-invitation cap (checked first by the old code too). */
export async function refusalOf(db: Database, limits: OfferLimits, partnerId: string, hour: number): Promise<AppError> {
  const partner = await db.partner.findUniqueOrThrow({ where: { id: partnerId }, select: { pendingInvitations: true, mailHour: true, mailSent: true } });
  if (limits.mail.spent(partner, hour)) return limits.mail.refusal(hour);
  return limits.pending.refusal(partnerId, partner.pendingInvitations);
}

/** A unique violation (a second live offer for the same tenant and roles, or the same operation's id). */
export function isDuplicateOffer(err: unknown): boolean {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError)) return false;
  if (err.code === 'P2002') return true;
  // A raw query's failure (P2010) carries the driver adapter's classification of PostgreSQL's error.
  const cause: unknown = Reflect.get(Object(Reflect.get(Object(err.meta), 'driverAdapterError')), 'cause');
  return err.code === 'P2010' && Reflect.get(Object(cause), 'kind') === 'UniqueConstraintViolation';
}
