import { appendAuditEvent } from '../audit/auditLog.js';
import type { TrialOffer } from '../contract/relationship.js';
import type { Database } from '../infra/database.js';
import type { TrialProvisioner } from './trialProvisioning.js';

export interface CancelTrialInput {
  workflowId: string;
  relationshipId: string;
  reason: string;
  /** The trial offered: the row is created cancelled if provisioning never got to write it. */
  trial: TrialOffer;
}

/**
 * The compensation of trial provisioning: the relationship ended while its trial was
 * being made. The local row is marked cancelled first, so a provisioning attempt still
 * running cannot activate it (it undoes its own trial instead), then the provider is asked
 * to undo the trial under the same key. Idempotent: a retry repeats both harmlessly.
 */
export function createTrialCancellationActivities(db: Database, provisioner: TrialProvisioner) {
  async function cancelTrial(input: CancelTrialInput): Promise<void> {
    const rel = await db.relationship.findUniqueOrThrow({ where: { id: input.relationshipId } });
    const cancelled = { status: 'cancelled', failureReason: input.reason };
    await db.$transaction(async (tx) => {
      await tx.trialSubscription.upsert({
        where: { relationshipId: input.relationshipId },
        create: { relationshipId: input.relationshipId, ...input.trial, ...cancelled },
        update: cancelled,
      });
      await appendAuditEvent(tx, {
        idempotencyKey: `${input.workflowId}-trial-cancelled`,
        relationshipId: input.relationshipId,
        actorType: 'system',
        action: 'trial.cancelled',
        reason: input.reason,
      });
    });
    await provisioner.cancel?.({ idempotencyKey: `${input.workflowId}-trial`, tenantDomain: rel.tenantDomain });
  }

  return { cancelTrial };
}
