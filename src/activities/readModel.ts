import { appendAuditEvent, writeAuditEvent } from '../audit/auditLog.js';
import type { Actor, RecordTransitionInput, RecordTransitionsInput } from '../contract/relationship.js';
import { isEnded } from '../contract/statuses.js';
import { storedTrialOffer } from '../relationships/storedOffer.js';
import type { Database } from '../infra/database.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { StagedWebhook, WebhookOutbox } from '../webhooks/webhookOutbox.js';

// Read-model and audit writes. Each is idempotent: audit rows carry a key
// derived from the workflow ID and step, and relationship rows only move
// forward (a retried or late write with an older sequence number changes nothing).

const date = (iso: string | null) => (iso ? new Date(iso) : null);

export function createReadModelActivities(db: Database, webhooks: WebhookOutbox) {
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
    // The row moved returns what the webhooks and grants need; only a write that finds it already
    // moved (a retry) reads it again.
    const targetFields = { partnerId: true, tenantDomain: true, roles: true, partner: { select: { webhookUrl: true } } } as const;
    const moved = await tx.relationship.updateManyAndReturn({
      select: targetFields,
      where: { id: relationshipId, version: { lt: last.seq } },
      data: {
        status: snapshot.status,
        version: last.seq,
        statusReason: last.reason ?? null,
        invitationExpiresAt: date(snapshot.invitationExpiresAt),
        acceptedAt: date(snapshot.acceptedAt),
        activatedAt: date(snapshot.activatedAt),
        endsAt: date(snapshot.endsAt),
        endedAt: date(snapshot.endedAt),
        autoExtend: snapshot.autoExtend,
        ...(ended ? { liveKey: null } : {}),
      },
    });
    const target = moved[0] ?? (await tx.relationship.findUniqueOrThrow({ where: { id: relationshipId }, select: targetFields }));
    for (const transition of transitions) {
      await appendAuditEvent(tx, {
        idempotencyKey: `${workflowId}-transition-${transition.seq}`,
        relationshipId,
        actorType: transition.actor.type,
        actorId: transition.actor.id ?? null,
        action: `relationship.${transition.to}`,
        fromStatus: transition.from,
        toStatus: transition.to,
        reason: transition.reason ?? null,
        createdAt: new Date(transition.at),
      });
    }
    // The webhooks' rows commit with the change they tell of, so neither exists without the other.
    const staged = await webhooks.stageTransitions(tx, input, { partnerId: target.partnerId, tenantDomain: target.tenantDomain, roles: target.roles, webhookUrl: target.partner.webhookUrl });
    if (moved.length === 0) return staged;
    const answered = transitions.find((t) => t.from === 'invited');
    if (answered) {
      // Every outstanding link dies with the answer (or the expiry).
      await tx.invitation.updateMany({
        where: { relationshipId, usedAt: null, revokedAt: null },
        data: answered.to === 'accepted' || answered.to === 'declined' ? { usedAt: new Date(answered.at) } : { revokedAt: new Date(answered.at) },
      });
    }
    if (transitions.some((t) => t.to === 'active')) {
      await tx.roleGrant.createMany({
        data: target.roles.map((role) => ({ relationshipId, partnerId: target.partnerId, tenantDomain: target.tenantDomain, role })),
        skipDuplicates: true,
      });
    }
    if (ended) {
      // Revoked in the same transaction as the end state: the access check answers no at once.
      await tx.roleGrant.updateMany({ where: { relationshipId, revokedAt: null }, data: { revokedAt: new Date(last.at) } });
    }
    return staged;
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
