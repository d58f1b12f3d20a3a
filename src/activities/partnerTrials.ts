import { appendAuditEvent } from '../audit/auditLog.js';
import type { Actor, TrialState } from '../contract/relationship.js';
import type { Database } from '../infra/database.js';
import type { WebhookOutbox } from '../webhooks/webhookOutbox.js';
import type { TrialEventType, TrialWebhookEvent } from '../webhooks/trialWebhookEvent.js';

/**
 * A step of a trial the partner's own system provisions (docs/commerce.md):
 * `requested` (it is asked), then `active`, `failed` or `cancelled`. Each is
 * written once (the audit key is the workflow id + step), so a retry changes nothing.
 */
export type PartnerTrialStep = 'requested' | 'active' | 'failed' | 'cancelled';

export interface RecordTrialStepInput {
  workflowId: string;
  relationshipId: string;
  step: PartnerTrialStep;
  /** The trial as the workflow holds it after the step. */
  trial: TrialState;
  actor: Actor;
  at: string;
}

export function createPartnerTrialActivities(db: Database, webhooks: WebhookOutbox, publicBaseUrl: string) {
  /**
   * Writes the step to the trial's row, the audit log and the signed `trial.<step>` webhook's
   * outbox row in one transaction, then hands the webhook to Redis: a partner never hears of a
   * step the read model does not show, and a crash after the commit loses nothing. An active
   * trial runs `days` from its completion.
   */
  async function recordTrialStep(input: RecordTrialStepInput): Promise<void> {
    const { relationshipId, trial: t } = input;
    const at = new Date(input.at);
    const live = input.step === 'active' ? { startsAt: at, endsAt: new Date(at.getTime() + t.days * 86_400_000) } : {};
    const fields = { status: input.step, externalRef: t.externalRef ?? null, failureReason: t.failureReason ?? null, ...live };
    // The webhook's row commits with the step it tells of; its job goes to Redis after the commit.
    const staged = await db.$transaction(async (tx) => {
      await tx.trialSubscription.upsert({
        where: { relationshipId },
        create: { relationshipId, offer: t.offer, seats: t.seats, days: t.days, ...fields },
        update: fields,
      });
      await appendAuditEvent(tx, {
        idempotencyKey: `${input.workflowId}-trial-${input.step}`,
        relationshipId,
        actorType: input.actor.type,
        actorId: input.actor.id ?? null,
        action: `trial.${input.step}`,
        reason: t.failureReason ?? null,
        data: {
          offer: t.offer,
          seats: t.seats,
          days: t.days,
          provisionedBy: 'partner',
          ...(t.deadlineAt ? { deadlineAt: t.deadlineAt } : {}),
          ...(t.externalRef ? { externalRef: t.externalRef } : {}),
        },
        createdAt: at,
      });
      const rel = await tx.relationship.findUniqueOrThrow({ where: { id: relationshipId }, select: { partnerId: true, tenantDomain: true } });
      return webhooks.stageProvisioningEvent(tx, trialEvent(input, rel, publicBaseUrl));
    });
    if (staged) await webhooks.handOver(staged);
  }

  return { recordTrialStep };
}

function trialEvent(input: RecordTrialStepInput, rel: { partnerId: string; tenantDomain: string }, publicBaseUrl: string): TrialWebhookEvent {
  const { relationshipId, trial: t } = input;
  const type: TrialEventType = `trial.${input.step}`;
  return {
    id: `${input.workflowId}-${type.replace('.', '-')}`,
    type,
    createdAt: input.at,
    data: {
      relationshipId,
      partnerId: rel.partnerId,
      tenantDomain: rel.tenantDomain,
      trial: {
        status: t.status,
        offer: t.offer,
        seats: t.seats,
        days: t.days,
        requestedAt: t.requestedAt ?? null,
        deadlineAt: t.deadlineAt ?? null,
        externalRef: t.externalRef ?? null,
        failureReason: t.failureReason ?? null,
      },
      completeUrl: input.step === 'requested' ? new URL(`/api/v1/relationships/${relationshipId}/trial`, publicBaseUrl).toString() : null,
    },
  };
}
