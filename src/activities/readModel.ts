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
  async function recordTransition(input: RecordTransitionInput) {
    const staged = await writeTransition(input);
    // After the commit, so a partner never hears of a transition the read model doesn't show yet.
    // Bounded: with Redis down the row waits for the outbox sweeper, and the step (a terminate the
    // caller waits on) is not held up. A retry re-runs both halves; each is idempotent on the seq.
    if (staged) await webhooks.handOver(staged);
  }

  /**
   * Several transitions in one database transaction, oldest first, so the read model never shows
   * the last one's status without what the others wrote (an `active` without its grants). A retry
   * skips what is already written: the seq guards each.
   */
  async function recordTransitions({ transitions, ...input }: RecordTransitionsInput) {
    const staged = await db.$transaction(async (tx) => {
      const handOvers: StagedWebhook[] = [];
      for (const transition of transitions) {
        const one = await writeTransitionIn(tx, { ...input, transition });
        if (one) handOvers.push(one);
      }
      return handOvers;
    });
    for (const one of staged) await webhooks.handOver(one);
  }

  function writeTransition(input: RecordTransitionInput) {
    return db.$transaction((tx) => writeTransitionIn(tx, input));
  }

  async function writeTransitionIn(tx: Prisma.TransactionClient, input: RecordTransitionInput): Promise<StagedWebhook | null> {
    const { workflowId, relationshipId, transition, snapshot } = input;
    const ended = isEnded(transition.to);
    const moved = await tx.relationship.updateMany({
      where: { id: relationshipId, version: { lt: transition.seq } },
      data: {
        status: snapshot.status,
        version: transition.seq,
        statusReason: transition.reason ?? null,
        invitationExpiresAt: date(snapshot.invitationExpiresAt),
        acceptedAt: date(snapshot.acceptedAt),
        activatedAt: date(snapshot.activatedAt),
        endsAt: date(snapshot.endsAt),
        endedAt: date(snapshot.endedAt),
        autoExtend: snapshot.autoExtend,
        ...(ended ? { liveKey: null } : {}),
      },
    });
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
    // The webhook's row commits with the change it tells of, so neither exists without the other.
    const staged = await webhooks.stageTransition(tx, input);
    if (moved.count === 0) return staged;
    if (transition.from === 'invited') {
      // Every outstanding link dies with the answer (or the expiry).
      await tx.invitation.updateMany({
        where: { relationshipId, usedAt: null, revokedAt: null },
        data: transition.to === 'accepted' || transition.to === 'declined' ? { usedAt: new Date(transition.at) } : { revokedAt: new Date(transition.at) },
      });
    }
    if (transition.to === 'active') {
      const rel = await tx.relationship.findUniqueOrThrow({ where: { id: relationshipId } });
      await tx.roleGrant.createMany({
        data: rel.roles.map((role) => ({ relationshipId, partnerId: rel.partnerId, tenantDomain: rel.tenantDomain, role })),
        skipDuplicates: true,
      });
    }
    if (ended) {
      // Revoked in the same transaction as the end state: the access check answers no at once.
      await tx.roleGrant.updateMany({ where: { relationshipId, revokedAt: null }, data: { revokedAt: new Date(transition.at) } });
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
