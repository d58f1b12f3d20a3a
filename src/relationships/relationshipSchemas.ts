import { z } from 'zod';
import { countRanges, defaultPolicy, describeDuration, durationRange, rangeMessage, type DurationField, type Range } from '../contract/policy.js';
import { roleIds } from '../contract/roles.js';
import { relationshipStatuses } from '../contract/statuses.js';
import { domainSchema, emailAddressSchema, tenantNameSchema } from '../tenants/tenantIdentifiers.js';
import { durationSchema } from '../validation/duration.js';
import { provisioningDeadlineSchemaFor, purchaseOfferSchema } from './purchaseSchemas.js';
import { displayNameSchema, reasonSchema, termsSchema } from '../validation/text.js';

// Request schemas: the edge validates everything before anything changes.
// `.strict()` refuses unknown fields rather than silently dropping them.

/** A whole number in its range, refused with a message naming the range. */
const count = (range: Range) => {
  const message = rangeMessage(range);
  return z.number(message).int(`${message} (a whole number)`).min(range.min, message).max(range.max, message);
};

/** What the operator decides about offers (ALLOW_SHORT_DURATIONS): never something a partner can ask for. */
export interface OfferBounds {
  allowShortDurations: boolean;
}

/**
 * The offer a partner sends, with every duration and count inside its range
 * (src/contract/policy.ts, the ranges the workflow checks too). Durations are
 * "14d" or ISO 8601 "P14D" (src/validation/duration.ts).
 */
export function createRelationshipSchemaFor({ allowShortDurations }: OfferBounds) {
  const duration = (field: DurationField) => {
    const range = durationRange(field, allowShortDurations);
    return durationSchema(range).meta({ description: `Between ${describeDuration(range.min)} and ${describeDuration(range.max)}, like "14d" or "P14D".` });
  };
  return z
    .object({
      customer: z
        .object({
          tenantDomain: domainSchema,
          adminEmail: emailAddressSchema.meta({
            description: 'The person you deal with. The invitation goes there; it authorizes only if that address is a verified admin of the tenant.',
          }),
          name: tenantNameSchema.optional(),
        })
        .strict(),
      roles: z.array(z.enum(roleIds)).min(1).max(roleIds.length).refine((r) => new Set(r).size === r.length, 'roles must be unique'),
      duration: duration('durationMs').optional(),
      autoExtend: z.boolean().default(false),
      terms: termsSchema.optional(),
      trial: z
        .object({
          offer: displayNameSchema,
          seats: count(countRanges.trialSeats),
          days: count(countRanges.trialDays),
        })
        .strict()
        .optional(),
      /** A subscription the partner sells with the relationship (docs/commerce.md); the customer decides on it separately. */
      purchase: purchaseOfferSchema.optional(),
      provisioningDeadlineSeconds: provisioningDeadlineSchemaFor(allowShortDurations).optional(),
      invitationTtl: duration('invitationTtlMs').optional(),
      /** Extends the API for tests and operators; defaults follow the design policy. */
      policy: z
        .object({
          reminderBeforeExpiry: duration('reminderBeforeExpiryMs').optional(),
          warningsBeforeEnd: z
            .array(duration('warningsBeforeEndMs'))
            .max(countRanges.warningsBeforeEnd.max, `must list at most ${countRanges.warningsBeforeEnd.max} warnings`)
            .optional(),
          autoExtendBy: duration('autoExtendByMs').optional(),
          /** Attempts at creating the trial before it is marked failed (the partner is then told). */
          trialProvisioningAttempts: count(countRanges.trialProvisioningAttempts).optional(),
        })
        .strict()
        .optional(),
    })
    .strict()
    .superRefine((body, ctx) => {
      // A reminder or warning the partner set must fall inside what it precedes; defaults
      // longer than a short TTL or duration are skipped by the workflow, never sent late.
      const ttl = body.invitationTtl ?? defaultPolicy.invitationTtlMs;
      const reminder = body.policy?.reminderBeforeExpiry;
      if (reminder !== undefined && reminder >= ttl) {
        ctx.addIssue({ code: 'custom', path: ['policy', 'reminderBeforeExpiry'], message: `must be shorter than the invitation TTL (${describeDuration(ttl)})` });
      }
      const length = body.duration ?? defaultPolicy.durationMs;
      body.policy?.warningsBeforeEnd?.forEach((warning, i) => {
        if (warning >= length) {
          ctx.addIssue({ code: 'custom', path: ['policy', 'warningsBeforeEnd', i], message: `must be shorter than the duration (${describeDuration(length)})` });
        }
      });
    });
}

/** The offer schema with production ranges: the OpenAPI document and the request type. */
export const createRelationshipSchema = createRelationshipSchemaFor({ allowShortDurations: false });

export type CreateRelationshipRequest = z.infer<typeof createRelationshipSchema>;

export const reasonBodySchema = z
  .object({ reason: reasonSchema.optional().meta({ description: 'Why; kept in the audit log and told to the other side.' }) })
  .strict();

export const listRelationshipsQuerySchema = z
  .object({
    status: z.enum(relationshipStatuses).optional(),
    tenant: domainSchema.optional(),
    partnerId: z.uuid().optional().meta({ description: 'Operator only in effect: a partner always sees only its own relationships.' }),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

export type ListRelationshipsQuery = z.infer<typeof listRelationshipsQuerySchema>;


export const relationshipIdSchema = z.uuid();
