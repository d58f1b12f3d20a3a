import { z } from 'zod';
import { DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS } from '../partners/partnerKeys.js';

// Requests and answers of the operator's key routes (rotation and revocation),
// kept beside each other; openapi.ts documents them from here.

export const partnerIdParamSchema = z.uuid();

export const rotateKeySchema = z
  .object({
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_GRACE_SECONDS)
      .default(DEFAULT_GRACE_SECONDS)
      .meta({ description: `How long the partner's older keys keep working (0 to ${MAX_GRACE_SECONDS} s; default ${DEFAULT_GRACE_SECONDS}, one day)` }),
  })
  .strict();

/** A key is named by its id, or by the prefix the partner list and the key list show. */
export const keyRefSchema = z.union([z.uuid().transform((id) => ({ id })), z.string().regex(/^pf_[A-Za-z0-9_-]{7}$/).transform((prefix) => ({ prefix }))]);

const timestamp = z.iso.datetime({ offset: true });

export const partnerKeySchema = z.object({
  id: z.uuid(),
  prefix: z.string().meta({ description: 'The key’s first characters (not a secret), to tell keys apart' }),
  status: z.enum(['active', 'expiring', 'expired', 'revoked']).meta({ description: 'expiring: still valid, until expiresAt (a rotation’s grace period)' }),
  createdAt: timestamp,
  expiresAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
});

export const partnerKeyListSchema = z.object({ keys: z.array(partnerKeySchema) });

export const keyRotatedSchema = z.object({
  partnerId: z.uuid(),
  apiKey: z.string().optional().meta({ description: 'The new key, shown only in this answer (not in an Idempotency-Key replay); only its hash is kept.' }),
  key: partnerKeySchema,
  previousKeys: z.array(partnerKeySchema).meta({ description: 'The keys that were live before, now ending at the grace period' }),
});
