import { createHash } from 'node:crypto';
import { appendAuditEvent } from '../audit/auditLog.js';
import { purchaseTotal, type SubscriptionState } from '../contract/purchase.js';
import type { Actor } from '../contract/relationship.js';
import type { Database } from '../infra/database.js';
import type { WebhookOutbox } from '../webhooks/webhookOutbox.js';
import { subscriptionEvent, type SubscriptionEventType } from '../webhooks/subscriptionWebhookEvent.js';

/**
 * A step of the purchase offered with a relationship (docs/commerce.md): `agreed` and
 * `declined` are the customer's answer, `requested` the partner's system being asked,
 * then `active`, `failed` or `cancelled`. Each is written once (the audit key is the
 * workflow id + step), so a retried activity changes nothing.
 */
export const subscriptionSteps = ['agreed', 'declined', 'requested', 'active', 'failed', 'cancelled'] as const;
export type SubscriptionStep = (typeof subscriptionSteps)[number];

export interface RecordSubscriptionInput {
  workflowId: string;
  relationshipId: string;
  step: SubscriptionStep;
  /** The subscription as the workflow holds it after the step. */
  subscription: SubscriptionState;
  actor: Actor;
  at: string;
  /** Whether the partner gets the step's webhook (`subscription.<step>`; never for `agreed`). */
  tellPartner: boolean;
}

const date = (iso: string | undefined) => (iso ? new Date(iso) : null);

export function createSubscriptionActivities(db: Database, webhooks: WebhookOutbox, publicBaseUrl: string) {
  /**
   * Writes the step to the subscriptions row, the audit log (who agreed to what and when:
   * product, seats, term, price, total) and the signed webhook's outbox row in one transaction,
   * then hands the webhook to Redis: a partner never hears of a step the read model does not
   * show, and a crash after the commit leaves a row the outbox sweeper delivers.
   */
  async function recordSubscription(input: RecordSubscriptionInput): Promise<void> {
    const { relationshipId, subscription: s } = input;
    const fields = {
      status: s.status,
      agreedAt: date(s.agreedAt),
      agreedBy: s.agreedBy ?? null,
      requestedAt: date(s.requestedAt),
      deadlineAt: date(s.deadlineAt),
      completedAt: date(s.completedAt),
      externalRef: s.externalRef ?? null,
      failureReason: s.failureReason ?? null,
    };
    // The webhook's row commits with the step it tells of; its job goes to Redis after the commit.
    const staged = await db.$transaction(async (tx) => {
      await tx.subscription.upsert({
        where: { relationshipId },
        create: {
          relationshipId,
          product: s.product,
          seats: s.seats,
          term: s.term,
          priceAmount: s.pricePerSeat.amount,
          currency: s.pricePerSeat.currency,
          autoRenew: s.autoRenew,
          ...fields,
        },
        update: fields,
      });
      await appendAuditEvent(tx, {
        idempotencyKey: `${input.workflowId}-subscription-${input.step}`,
        relationshipId,
        actorType: input.actor.type,
        actorId: input.actor.id ?? null,
        action: `subscription.${input.step}`,
        reason: s.failureReason ?? null,
        data: {
          product: s.product,
          seats: s.seats,
          term: s.term,
          pricePerSeat: { ...s.pricePerSeat },
          total: { ...purchaseTotal(s) },
          autoRenew: s.autoRenew,
          ...(s.agreedAt ? { agreedAt: s.agreedAt, agreedBy: s.agreedBy ?? null } : {}),
          ...(s.deadlineAt ? { deadlineAt: s.deadlineAt } : {}),
          ...(s.externalRef ? { externalRef: s.externalRef } : {}),
        },
        createdAt: new Date(input.at),
      });
      if (!input.tellPartner || input.step === 'agreed') return null;
      const rel = await tx.relationship.findUniqueOrThrow({ where: { id: relationshipId }, select: { partnerId: true, tenantDomain: true } });
      const type: SubscriptionEventType = `subscription.${input.step}`;
      return webhooks.stageProvisioningEvent(
        tx,
        subscriptionEvent({
        workflowId: input.workflowId,
        type,
        at: input.at,
        relationshipId,
        partnerId: rel.partnerId,
        tenantDomain: rel.tenantDomain,
        subscription: s,
          completeUrl: input.step === 'requested' ? new URL(`/api/v1/relationships/${relationshipId}/subscription`, publicBaseUrl).toString() : null,
        }),
      );
    });
    if (staged) await webhooks.handOver(staged);
  }

  /**
   * The local provisioner (`npm start`, demos, partners whose provisioner is `local`): the
   * subscription exists as soon as it is asked for; its reference is derived from the workflow
   * id, so a retry answers the same.
   */
  function provisionLocalSubscription(input: { workflowId: string; relationshipId: string }): Promise<{ externalRef: string }> {
    const digest = createHash('sha256').update(`${input.workflowId}-subscription`).digest('hex').slice(0, 16);
    return Promise.resolve({ externalRef: `local-sub-${digest}` });
  }

  return { recordSubscription, provisionLocalSubscription };
}
