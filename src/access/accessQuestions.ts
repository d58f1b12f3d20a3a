import { z } from 'zod';
import { roleIds } from '../contract/roles.js';
import { domainSchema } from '../tenants/tenantIdentifiers.js';

// The access question, "may partner P act in role R in tenant T now?", as a
// query string (one check) and as a JSON body (a batch). One schema per shape;
// src/access/accessCheck.ts decides who may ask what.

/** A batch asks at most this many questions; more is 400 (split it). */
export const MAX_BATCH_CHECKS = 100;

const partnerField = z
  .uuid()
  .transform((id) => id.toLowerCase())
  .optional()
  .meta({ description: 'The partner asked about. Required with an enforcer key; with a partner key only its own id (or left out).' });
const tenantField = domainSchema.meta({ description: 'The tenant’s domain (normalised: lower case, punycode, no trailing dot)' });
const roleField = z.enum(roleIds).meta({ description: 'A role id from GET /api/v1/roles' });

/** GET /api/v1/access?partner=&tenant=&role= */
export const accessQuerySchema = z.object({ partner: partnerField, tenant: tenantField, role: roleField }).strict();

export type AccessQuery = z.infer<typeof accessQuerySchema>;

/** POST /api/v1/access/batch: up to MAX_BATCH_CHECKS questions, answered in the order asked. */
export const accessBatchSchema = z
  .object({
    checks: z
      .array(z.object({ partner: partnerField, tenant: tenantField, role: roleField }).strict())
      .min(1, 'must ask at least one question')
      .max(MAX_BATCH_CHECKS, `must ask at most ${MAX_BATCH_CHECKS} questions (split the batch)`),
  })
  .strict();

export type AccessBatch = z.infer<typeof accessBatchSchema>;
