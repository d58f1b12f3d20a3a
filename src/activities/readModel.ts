import { appendAfterHead, appendAuditEvent, tenantHeadLock, writeAuditEvent, type LockedHead } from '../audit/auditLog.js';
import type { Actor, RecordTransitionInput, RecordTransitionsInput } from '../contract/relationship.js';
import { isEnded } from '../contract/statuses.js';
import { storedTrialOffer } from '../relationships/storedOffer.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Database } from '../infra/database.js';
import { utcTimestamp as utc } from '../infra/sqlTimestamp.js';
import type { StagedWebhook, WebhookOutbox } from '../webhooks/webhookOutbox.js';

// Read-model and audit writes. Each is idempotent: audit rows carry a key
// derived from the workflow ID and step, and relationship rows only move
// forward (a retried or late write with an older sequence number changes nothing).

/** The relationship's side of a transition write: whom its webhooks go to, what its grants are. */
interface TargetRow extends LockedHead {
  partner_id: string;
  tenant_domain: string;
  roles: string[];
  webhook_url: string | null;
  /** False for a write that found the row at or past its seq (a retry, a late write). */
  moved: boolean;
}

export function createReadModelActivities(db: Database, webhooks: Pick<WebhookOutbox, 'stageTransitions' | 'handOver'>) {
  // After the commit, so a partner never hears of a transition the read model doesn't show yet.
  // Bounded: with Redis down the row waits for the outbox sweeper, and the step (a terminate the
  // caller waits on) is not held up. A retry re-runs both halves; each is idempotent on the seq.
  async function writeAndHandOver(input: RecordTransitionsInput): Promise<void> {
    const staged = await db.$transaction((tx) => writeTransitionsIn(tx, input));
    for (const one of staged) await webhooks.handOver(one);
  }

  function recordTransition({ transition, ...input }: RecordTransitionInput) {
    return writeAndHandOver({ ...input, transitions: [transition] });
  }

  /**
   * Several transitions in one database transaction, oldest first, so the read model never shows
   * the last one's status without what the others wrote (an `active` without its grants).
   */
  function recordTransitions(input: RecordTransitionsInput) {
    return writeAndHandOver(input);
  }

  /**
   * One write of the relationship's row for all of `transitions` (its snapshot is the state after
   * the last), an audit event and a webhook for each. The row moves only forward: a retry, or a late
   * write of older transitions, finds its version at or past the last seq and changes nothing but
   * what is keyed by seq anyway (audit, webhook rows). What the transitions cause (links used up,
   * grants given or revoked) is idempotent and happens only with a row that moved.
   */
  async function writeTransitionsIn(tx: Prisma.TransactionClient, input: RecordTransitionsInput): Promise<StagedWebhook[]> {
    const { workflowId, relationshipId, transitions, snapshot } = input;
    const last = transitions.at(-1);
    if (!last) return [];
    const ended = isEnded(snapshot.status);
    // One statement moves the row, returns what the webhooks and grants need (a write that finds
    // the row already moved, a retry, reads it instead) and locks the tenant's audit chain head.
    // The head's CTE reads the domain from the row's, so the row is locked first (auditLog.ts).
    const [target] = await tx.$queryRaw<TargetRow[]>`
      WITH moved AS (
        UPDATE relationships r
        SET status = ${snapshot.status}, version = ${last.seq}::int, status_reason = ${last.reason ?? null}::text,
            invitation_expires_at = ${utc(snapshot.invitationExpiresAt)}, accepted_at = ${utc(snapshot.acceptedAt)},
            activated_at = ${utc(snapshot.activatedAt)}, ends_at = ${utc(snapshot.endsAt)}, ended_at = ${utc(snapshot.endedAt)},
            auto_extend = ${snapshot.autoExtend}::boolean, live_key = CASE WHEN ${ended}::boolean THEN NULL ELSE r.live_key END,
            updated_at = (now() AT TIME ZONE 'UTC')
        FROM partners p
        WHERE r.id = ${relationshipId}::uuid AND r.version < ${last.seq}::int AND p.id = r.partner_id
        RETURNING r.partner_id, r.tenant_domain, r.roles, p.webhook_url
      ),
      target AS (
        SELECT m.*, true AS moved FROM moved m
        UNION ALL
        SELECT r.partner_id, r.tenant_domain, r.roles, p.webhook_url, false FROM relationships r JOIN partners p ON p.id = r.partner_id
        WHERE r.id = ${relationshipId}::uuid AND NOT EXISTS (SELECT 1 FROM moved)
      ),
      head AS (${tenantHeadLock(Prisma.sql`SELECT tenant_domain FROM target`)})
      SELECT t.partner_id, t.tenant_domain, t.roles, t.webhook_url, t.moved, h.chain, h.seq, h.hash FROM target t CROSS JOIN head h`;
    if (!target) throw new Error(`no relationship ${relationshipId}`);
    // The webhooks' rows commit with the change they tell of, so neither exists without the other.
    const staged = await webhooks.stageTransitions(tx, input, { partnerId: target.partner_id, tenantDomain: target.tenant_domain, roles: target.roles, webhookUrl: target.webhook_url });
    await appendAfterHead(
      tx,
      target,
      transitions.map((transition) => ({
        idempotencyKey: `${workflowId}-transition-${transition.seq}`,
        relationshipId,
        actorType: transition.actor.type,
        actorId: transition.actor.id ?? null,
        action: `relationship.${transition.to}`,
        fromStatus: transition.from,
        toStatus: transition.to,
        reason: transition.reason ?? null,
        createdAt: new Date(transition.at),
      })),
      // What the transitions cause (links used up, grants given or revoked), in the audit's
      // statement: idempotent, and only with a row that moved.
      target.moved ? consequences(input, target) : [],
    );
    return staged;
  }

  /** The writes a moved row's transitions cause, as CTE bodies. */
  function consequences({ relationshipId, transitions, snapshot }: RecordTransitionsInput, target: TargetRow): Prisma.Sql[] {
    const writes: Prisma.Sql[] = [];
    const answered = transitions.find((t) => t.from === 'invited');
    if (answered) {
      // Every outstanding link dies with the answer (or the expiry).
      const column = Prisma.raw(answered.to === 'accepted' || answered.to === 'declined' ? 'used_at' : 'revoked_at');
      writes.push(Prisma.sql`UPDATE invitations SET ${column} = ${utc(answered.at)}
        WHERE relationship_id = ${relationshipId}::uuid AND used_at IS NULL AND revoked_at IS NULL`);
    }
    // Revoked in the same transaction as the end state: the access check answers no at once. The
    // CTEs of one statement do not see each other's rows, so grants given by a write that also ends
    // the relationship (an end decided before the Yes was written) go in revoked already.
    const last = transitions.at(-1);
    const revokedAt = last && isEnded(snapshot.status) ? utc(last.at) : null;
    if (transitions.some((t) => t.to === 'active')) {
      writes.push(Prisma.sql`INSERT INTO role_grants (id, relationship_id, partner_id, tenant_domain, role, granted_at, revoked_at)
        SELECT gen_random_uuid(), ${relationshipId}::uuid, ${target.partner_id}::uuid, ${target.tenant_domain}, role, (now() AT TIME ZONE 'UTC'),
               ${revokedAt ?? Prisma.sql`NULL`}
        FROM unnest(${target.roles}::text[]) AS role
        ON CONFLICT (relationship_id, role) DO NOTHING`);
    }
    if (revokedAt) {
      writes.push(Prisma.sql`UPDATE role_grants SET revoked_at = ${revokedAt} WHERE relationship_id = ${relationshipId}::uuid AND revoked_at IS NULL`);
    }
    return writes;
  }

  async function recordRenewal(input: { workflowId: string; relationshipId: string; renewal: number; endsAt: string }) {
    await db.$transaction(async (tx) => {
      await tx.relationship.update({ where: { id: input.relationshipId }, data: { endsAt: new Date(input.endsAt) } });
      await appendAuditEvent(tx, {
        idempotencyKey: `${input.workflowId}-renewal-${input.renewal}`,
        relationshipId: input.relationshipId,
        actorType: 'system',
        action: 'relationship.renewed',
        data: { endsAt: input.endsAt, renewal: input.renewal },
      });
    });
  }

  async function recordAutoExtend(input: { workflowId: string; relationshipId: string; autoExtend: boolean; actor: Actor; at: string }) {
    await db.$transaction(async (tx) => {
      await tx.relationship.update({ where: { id: input.relationshipId }, data: { autoExtend: input.autoExtend } });
      await appendAuditEvent(tx, {
        idempotencyKey: `${input.workflowId}-autoextend-${input.at}`,
        relationshipId: input.relationshipId,
        actorType: input.actor.type,
        actorId: input.actor.id ?? null,
        action: input.autoExtend ? 'relationship.autoExtendOn' : 'relationship.autoExtendOff',
        createdAt: new Date(input.at),
      });
    });
  }

  async function recordTrialFailure(input: { workflowId: string; relationshipId: string; reason: string }) {
    await db.$transaction(async (tx) => {
      const moved = await tx.trialSubscription.updateMany({
        where: { relationshipId: input.relationshipId, status: { not: 'active' } },
        data: { status: 'failed', failureReason: input.reason },
      });
      // Provisioning failed before it wrote the trial's row: the failure is recorded from the offer.
      const offered = moved.count === 0 ? storedTrialOffer((await tx.relationship.findUnique({ where: { id: input.relationshipId }, select: { trialOffer: true } }))?.trialOffer) : null;
      if (offered) {
        await tx.trialSubscription.createMany({ data: [{ relationshipId: input.relationshipId, ...offered, status: 'failed', failureReason: input.reason }], skipDuplicates: true });
      }
      await appendAuditEvent(tx, {
        idempotencyKey: `${input.workflowId}-trial-failed`,
        relationshipId: input.relationshipId,
        actorType: 'system',
        action: 'trial.failed',
        reason: input.reason,
      });
    });
  }

  /** The audit event behind the partner API's `invitationDeliveryFailure`: one per invitation round. */
  async function recordInvitationUndeliverable(input: {
    workflowId: string;
    relationshipId: string;
    template: 'invitation' | 'reminder';
    reason: string;
    at: string;
    round: number;
  }) {
    await writeAuditEvent(db, {
      idempotencyKey: `${input.workflowId}-undeliverable-${input.round}`,
      relationshipId: input.relationshipId,
      actorType: 'system',
      action: 'invitation.undeliverable',
      reason: input.reason,
      data: { template: input.template, round: input.round },
      createdAt: new Date(input.at),
    });
  }

  return { recordTransition, recordTransitions, recordRenewal, recordAutoExtend, recordTrialFailure, recordInvitationUndeliverable };
}
