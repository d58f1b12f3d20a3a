import { createHash } from 'node:crypto';
import { activityInfo, ApplicationFailure, log } from '@temporalio/activity';
import { writeAuditEvent } from '../audit/auditLog.js';
import { permanentActivityFailures } from '../contract/activityFailures.js';
import { defaultPolicy } from '../contract/policy.js';
import type { Database } from '../infra/database.js';

/**
 * Where trials are created. The built-in provisioner records the trial
 * locally; a deployment that sells real subscriptions plugs its billing
 * system in here. Implementations must be idempotent on `idempotencyKey`.
 */
export interface TrialProvisioner {
  provision(request: {
    idempotencyKey: string;
    tenantDomain: string;
    offer: string;
    seats: number;
    days: number;
  }): Promise<{ externalRef: string }>;
  /**
   * Undoes the trial made (or being made) under `idempotencyKey`: called when the relationship
   * ends while it is provisioned. Must be idempotent, and a later `provision` with that key must
   * not make a trial. Optional: a provisioner without it only has the local row marked cancelled.
   */
  cancel?(request: { idempotencyKey: string; tenantDomain: string }): Promise<void>;
}

export const localTrialProvisioner: TrialProvisioner = {
  provision: ({ idempotencyKey }) =>
    Promise.resolve({ externalRef: `trial-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 16)}` }),
};

/**
 * What partners are told when the provider fails (API, webhooks, the trialFailed email).
 * The provider's own error text may hold internals (hosts, credentials, stack details):
 * it goes only to the worker's log and the operators' audit log, never to a partner.
 */
export const TRIAL_PROVISIONING_FAILED = { code: 'trialProvisioningFailed', message: 'The trial could not be created by the provider.' } as const;

export interface ProvisionTrialInput {
  workflowId: string;
  relationshipId: string;
  offer: string;
  seats: number;
  days: number;
  /** How often the provider may fail before the trial is marked failed (absent in runs started before: the default policy's). */
  providerAttempts?: number;
}

export function createTrialActivities(db: Database, provisioner: TrialProvisioner) {
  async function provisionTrial(input: ProvisionTrialInput): Promise<{ externalRef: string; endsAt: string }> {
    const rel = await db.relationship.findUniqueOrThrow({ where: { id: input.relationshipId } });
    const trial = await db.trialSubscription.upsert({
      where: { relationshipId: input.relationshipId },
      create: { relationshipId: input.relationshipId, offer: input.offer, seats: input.seats, days: input.days, status: 'provisioning' },
      update: {},
    });
    // Cancelled (the relationship ended meanwhile): never provisioned again by a late retry.
    if (trial.status === 'cancelled') throw ApplicationFailure.nonRetryable('The trial was cancelled.', permanentActivityFailures.trialCancelled);
    // A retry after success returns the trial already made instead of making another.
    if (trial.status === 'active' && trial.externalRef && trial.endsAt) {
      return { externalRef: trial.externalRef, endsAt: trial.endsAt.toISOString() };
    }
    let externalRef: string;
    try {
      ({ externalRef } = await provisioner.provision({
        idempotencyKey: `${input.workflowId}-trial`,
        tenantDomain: rel.tenantDomain,
        offer: input.offer,
        seats: input.seats,
        days: input.days,
      }));
    } catch (err) {
      throw await providerFailure(input, err);
    }
    const startsAt = new Date();
    const endsAt = new Date(startsAt.getTime() + input.days * 86_400_000);
    // A cancellation that came while the provider worked wins: the trial it made is undone, not activated.
    const activated = await db.trialSubscription.updateMany({
      where: { relationshipId: input.relationshipId, status: { not: 'cancelled' } },
      data: { status: 'active', externalRef, startsAt, endsAt, failureReason: null },
    });
    if (activated.count === 0) {
      await provisioner.cancel?.({ idempotencyKey: `${input.workflowId}-trial`, tenantDomain: rel.tenantDomain });
      throw ApplicationFailure.nonRetryable('The trial was cancelled.', permanentActivityFailures.trialCancelled);
    }
    return { externalRef, endsAt: endsAt.toISOString() };
  }

  /** Keeps the raw error for operators and gives Temporal (and so the workflow) only the stable one. */
  async function providerFailure(input: ProvisionTrialInput, err: unknown): Promise<ApplicationFailure> {
    const { attempt } = activityInfo();
    const detail = (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 2000);
    log.warn('trial provider failed', { event: 'trial.providerFailed', workflowId: input.workflowId, relationshipId: input.relationshipId, attempt, detail });
    await writeAuditEvent(db, {
      idempotencyKey: `${input.workflowId}-trial-provider-error-${attempt}`,
      relationshipId: input.relationshipId,
      actorType: 'system',
      action: 'trial.providerError',
      data: { attempt, detail },
    });
    // Only the provider's failures count (a database outage retried meanwhile does not): the last
    // one allowed is final. Its message is all that travels on.
    const failures = await db.auditEvent.count({ where: { relationshipId: input.relationshipId, action: 'trial.providerError' } });
    const allowed = input.providerAttempts ?? defaultPolicy.trialProvisioningAttempts;
    return ApplicationFailure.create({ type: TRIAL_PROVISIONING_FAILED.code, message: TRIAL_PROVISIONING_FAILED.message, nonRetryable: failures >= allowed });
  }

  return { provisionTrial };
}
