import { z } from 'zod';
import { ENFORCER_KEYS } from '../enforcers/enforcers.js';
import { domainSchema } from '../tenants/tenantIdentifiers.js';
import { displayNameSchema } from '../validation/text.js';
import { apiKeySchema, holderIdParamSchema, keyRefSchemaFor, keyRotatedSchemaFor } from './keySchemas.js';

// What the operator sends and gets back about enforcers: the systems that
// execute admin actions in tenants and ask the access question about any
// partner. `.strict()` refuses unknown fields.

/** At most this many tenants in one enforcer's scope (an enforcer for more is given every tenant). */
export const MAX_ENFORCER_TENANTS = 500;

export const enforcerIdParamSchema = holderIdParamSchema;

export const createEnforcerSchema = z
  .object({
    name: displayNameSchema,
    tenants: z
      .array(domainSchema)
      .min(1, 'list at least one tenant, or leave tenants out for every tenant')
      .max(MAX_ENFORCER_TENANTS)
      // Normalised first, so Contoso.COM. and contoso.com are one tenant.
      .transform((domains) => [...new Set(domains)])
      .nullish()
      .transform((tenants) => tenants ?? null)
      .meta({ description: `The tenant domains (normalised: lower case, punycode, no trailing dot) it may ask about, 1 to ${MAX_ENFORCER_TENANTS}; left out or null: every tenant.` }),
  })
  .strict();

/** An enforcer key by its id, or its prefix (`pfe_` and 7 characters). */
export const enforcerKeyRefSchema = keyRefSchemaFor(ENFORCER_KEYS);

export const enforcerKeyRotatedSchema = keyRotatedSchemaFor('enforcerId');

const timestamp = z.iso.datetime({ offset: true });
const tenantsSchema = z.array(z.string()).nullable().meta({ description: 'The tenant domains it may ask about; null: every tenant' });

export const enforcerCreatedSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  tenants: tenantsSchema,
  createdAt: timestamp,
  apiKey: z.string().optional().meta({ description: 'The enforcer’s key (`pfe_…`), shown only in the first answer (not in an Idempotency-Key replay); only its hash is kept.' }),
});

export const enforcerListSchema = z.object({
  enforcers: z.array(
    z.object({
      id: z.uuid(),
      name: z.string(),
      tenants: tenantsSchema,
      createdAt: timestamp,
      keys: z.array(apiKeySchema).meta({ description: 'Its keys, newest first: prefixes, status and dates, never a key' }),
    }),
  ),
});
