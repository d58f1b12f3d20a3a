import { createHash } from 'node:crypto';
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
}

export const localTrialProvisioner: TrialProvisioner = {
  provision: ({ idempotencyKey }) =>
    Promise.resolve({ externalRef: `trial-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 16)}` }),
};

export interface ProvisionTrialInput {
  workflowId: string;
  relationshipId: string;
  offer: string;
  seats: number;
  days: number;
}

export function createTrialActivities(db: Database, provisioner: TrialProvisioner) {
  async function provisionTrial(input: ProvisionTrialInput): Promise<{ externalRef: string; endsAt: string }> {
    const rel = await db.relationship.findUniqueOrThrow({ where: { id: input.relationshipId } });
    const trial = await db.trialSubscription.upsert({
      where: { relationshipId: input.relationshipId },
      create: { relationshipId: input.relationshipId, offer: input.offer, seats: input.seats, days: input.days, status: 'provisioning' },
      update: {},
    });
    // A retry after success returns the trial already made instead of making another.
    if (trial.status === 'active' && trial.externalRef && trial.endsAt) {
      return { externalRef: trial.externalRef, endsAt: trial.endsAt.toISOString() };
    }
    const { externalRef } = await provisioner.provision({
      idempotencyKey: `${input.workflowId}-trial`,
      tenantDomain: rel.tenantDomain,
      offer: input.offer,
      seats: input.seats,
      days: input.days,
    });
    const startsAt = new Date();
    const endsAt = new Date(startsAt.getTime() + input.days * 86_400_000);
    await db.trialSubscription.update({
      where: { relationshipId: input.relationshipId },
      data: { status: 'active', externalRef, startsAt, endsAt, failureReason: null },
    });
    return { externalRef, endsAt: endsAt.toISOString() };
  }

  return { provisionTrial };
}
