import { Prisma, type Relationship } from '../generated/prisma/client.js';
import { utcTimestamp } from '../infra/sqlTimestamp.js';
import type { PendingInvitationCap } from './pendingInvitationCap.js';

// An offer's row, inserted only while its partner is under the pending-invitation cap, in one
// statement: the partner's row is locked and checked by the cap's subquery, and the triggers add
// the new invitation to the partner's count before the lock is let go. Raw SQL because Prisma's
// create cannot be made conditional on another table's row.

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

/** The inserted row as the model API would read it, or null when the partner is at the cap. */
export async function insertOfferWithinCap(db: Executor, cap: PendingInvitationCap, row: OfferRow): Promise<Relationship | null> {
  const now = utcTimestamp(new Date().toISOString());
  const rows = await db.$queryRaw<Relationship[]>`
    WITH slot AS (${cap.slotFor(row.partnerId)})
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

/** A unique violation (a second live offer for the same tenant and roles, or the same operation's id). */
export function isDuplicateOffer(err: unknown): boolean {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError)) return false;
  if (err.code === 'P2002') return true;
  // A raw query's failure (P2010) carries the driver adapter's classification of PostgreSQL's error.
  const cause: unknown = Reflect.get(Object(Reflect.get(Object(err.meta), 'driverAdapterError')), 'cause');
  return err.code === 'P2010' && Reflect.get(Object(cause), 'kind') === 'UniqueConstraintViolation';
}
