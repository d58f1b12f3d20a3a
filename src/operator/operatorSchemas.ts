import { z } from 'zod';
import { domainSchema, emailAddressSchema, tenantNameSchema } from '../tenants/tenantIdentifiers.js';
import { displayNameSchema, httpUrlSchema } from '../validation/text.js';

// What the operator sends: partners and the tenant directory. `.strict()` refuses unknown fields.

export const createPartnerSchema = z
  .object({
    name: displayNameSchema,
    contactEmail: emailAddressSchema,
    webhookUrl: httpUrlSchema.optional(),
  })
  .strict();

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
