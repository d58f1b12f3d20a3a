import ms from 'ms';
import { z } from 'zod';
import { roleIds } from '../contract/roles.js';
import { relationshipStatuses } from '../contract/statuses.js';
import { domainSchema, emailAddressSchema, tenantNameSchema } from '../tenants/tenantIdentifiers.js';

// Request schemas: the edge validates everything before anything changes.
// `.strict()` refuses unknown fields rather than silently dropping them.

/** Durations use Temporal's format ("14d", "730 days", "30s"); tests pass seconds. */
export const durationSchema = z
  .string()
  .max(40)
  .transform((value, ctx) => {
    const parsed = ms(value as ms.StringValue);
    if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 1000) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration of at least 1s, like "14d" or "30s"' });
      return z.NEVER;
    }
    return parsed;
  });

export const createPartnerSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    contactEmail: z.email(),
    webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
  })
  .strict();

export const createRelationshipSchema = z
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
    duration: durationSchema.optional(),
    autoExtend: z.boolean().default(false),
    terms: z.string().trim().min(1).max(5000).optional(),
    trial: z
      .object({ offer: z.string().trim().min(1).max(200), seats: z.number().int().min(1).max(100_000), days: z.number().int().min(1).max(365) })
      .strict()
      .optional(),
    invitationTtl: durationSchema.optional(),
    /** Extends the API for tests and operators; defaults follow the design policy. */
    policy: z
      .object({
        reminderBeforeExpiry: durationSchema.optional(),
        warningsBeforeEnd: z.array(durationSchema).max(5).optional(),
        autoExtendBy: durationSchema.optional(),
        /** Attempts at creating the trial before it is marked failed (the partner is then told). */
        trialProvisioningAttempts: z.number().int().min(1).max(20).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type CreateRelationshipRequest = z.infer<typeof createRelationshipSchema>;

export const reasonBodySchema = z
  .object({ reason: z.string().trim().min(1).max(2000).optional().meta({ description: 'Why; kept in the audit log and told to the other side.' }) })
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

export const accessQuerySchema = z.object({ tenant: domainSchema, role: z.enum(roleIds) }).strict();

export const relationshipIdSchema = z.uuid();

// --- customer forms (application/x-www-form-urlencoded) ---

/** The authorization form, and the trial step that continues it (`trial` is set only there). */
export const invitationAnswerFormSchema = z.object({
  choice: z.enum(['yes', 'no']),
  reason: z.string().trim().max(2000).optional(),
  trial: z.enum(['start', 'skip']).optional(),
});

export const signInFormSchema = z.object({ tenantDomain: domainSchema, email: emailAddressSchema });

// --- the tenant directory ---

export const tenantDomainParamSchema = domainSchema;

export const putTenantSchema = z
  .object({
    name: tenantNameSchema,
    admins: z
      .array(emailAddressSchema)
      .min(1, 'a tenant needs at least one admin')
      .max(50)
      .meta({ description: 'Exactly the verified admins the tenant has after this call (addresses not listed are removed).' }),
  })
  .strict();

export const newTenantFormSchema = z.object({ tenantDomain: domainSchema, name: tenantNameSchema, email: emailAddressSchema });

/** The admins page's forms: invite an address, or remove one. */
export const adminEmailFormSchema = z.object({ email: emailAddressSchema, csrf: z.string().min(1).max(200) });

/** The invitation token the self-service verification came from, if any: it is linked back to at the end. */
export const verifyDomainFormSchema = z.object({ invitation: z.string().regex(/^[A-Za-z0-9_-]{20,100}$/).optional() });

/** Every form a signed-in customer posts carries the session's CSRF token. */
export const csrfFormSchema = z.object({ csrf: z.string().min(1).max(200) });

export const partnerListQuerySchema = z.object({ filter: z.enum(['active', 'ended', 'all']).default('active') });
