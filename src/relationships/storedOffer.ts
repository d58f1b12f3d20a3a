import { z } from 'zod';
import type { RelationshipPolicy } from '../contract/policy.js';
import type { TrialOffer } from '../contract/relationship.js';

// The offer's policy and trial are stored as JSON columns on the relationship.
// Read them back through one schema instead of casting at every use.

const storedPolicySchema = z
  .object({
    invitationTtlMs: z.number(),
    reminderBeforeExpiryMs: z.number(),
    durationMs: z.number(),
    warningsBeforeEndMs: z.array(z.number()),
    autoExtendByMs: z.number(),
    trialProvisioningAttempts: z.number(),
  })
  .partial();

const storedTrialOfferSchema = z.object({ offer: z.string(), seats: z.number(), days: z.number() }).nullable();

export function storedPolicy(json: unknown): Partial<RelationshipPolicy> {
  return storedPolicySchema.parse(json);
}

export function storedTrialOffer(json: unknown): TrialOffer | null {
  const trial = storedTrialOfferSchema.parse(json ?? null);
  return trial ? { offer: trial.offer, seats: trial.seats, days: trial.days } : null;
}
