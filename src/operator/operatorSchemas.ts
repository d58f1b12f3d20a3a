import { z } from 'zod';
import { provisioners } from '../contract/purchase.js';
import { domainSchema, emailAddressSchema, tenantNameSchema } from '../tenants/tenantIdentifiers.js';
import { displayNameSchema, httpUrlSchema } from '../validation/text.js';

// What the operator sends: partners and the tenant directory. `.strict()` refuses unknown fields.

export const createPartnerSchema = z
  .object({
    name: displayNameSchema,
    contactEmail: emailAddressSchema,
    webhookUrl: httpUrlSchema.optional(),
    provisioner: z
      .enum(provisioners)
      .default('local')
      .meta({ description: 'Who creates its trials and subscriptions: `local` (partnerflow records them) or `partner` (its own system, asked by a signed webhook; needs webhookUrl). docs/commerce.md.' }),
  })
  .strict()
  // Its system is asked only through the webhook: without a URL every request would wait for its deadline and fail.
  .refine((body) => body.provisioner !== 'partner' || body.webhookUrl !== undefined, { path: ['webhookUrl'], message: 'is required when provisioner is "partner"' });

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
