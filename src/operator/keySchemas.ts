import { z } from 'zod';
import { DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS, PREFIX_CHARACTERS, type KeyKind } from '../apiKeys/apiKeys.js';

// Requests and answers of the operator's key routes, the same for every kind
// of key (partners' and enforcers', src/apiKeys); partnerKeySchemas.ts and
// enforcerSchemas.ts make each kind's from these. openapi.ts documents them.

/** A partner's or an enforcer's id in a path. */
export const holderIdParamSchema = z.uuid();

export const rotateKeySchema = z
  .object({
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_GRACE_SECONDS)
      .default(DEFAULT_GRACE_SECONDS)
      .meta({ description: `How long the older keys keep working (0 to ${MAX_GRACE_SECONDS} s; default ${DEFAULT_GRACE_SECONDS}, one day)` }),
  })
  .strict();

/** A key is named by its id, or by the prefix the lists show (its tag and 7 characters). */
export function keyRefSchemaFor(kind: KeyKind) {
  const tag = kind.tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const prefix = new RegExp(`^${tag}[A-Za-z0-9_-]{${PREFIX_CHARACTERS}}$`);
  return z.union([z.uuid().transform((id) => ({ id })), z.string().regex(prefix).transform((prefix) => ({ prefix }))]);
}

const timestamp = z.iso.datetime({ offset: true });

export const apiKeySchema = z.object({
  id: z.uuid(),
  prefix: z.string().meta({ description: 'The key’s first characters (not a secret), to tell keys apart' }),
  status: z.enum(['active', 'expiring', 'expired', 'revoked']).meta({ description: 'expiring: still valid, until expiresAt (a rotation’s grace period)' }),
  createdAt: timestamp,
  expiresAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
});

export const apiKeyListSchema = z.object({ keys: z.array(apiKeySchema) });

/** A rotation's answer; `holderIdField` names the holder (`partnerId`, `enforcerId`). */
export function keyRotatedSchemaFor<Field extends string>(holderIdField: Field) {
  return z.object({
    ...({ [holderIdField]: z.uuid() } as Record<Field, z.ZodUUID>),
    apiKey: z.string().optional().meta({ description: 'The new key, shown only in this answer (not in an Idempotency-Key replay); only its hash is kept.' }),
    key: apiKeySchema,
    previousKeys: z.array(apiKeySchema).meta({ description: 'The keys that were live before, now ending at the grace period' }),
  });
}
