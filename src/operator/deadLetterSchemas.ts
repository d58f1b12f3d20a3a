import { z } from 'zod';
import { deliveryKinds } from '../infra/outboxSweeper.js';

// The operator's view of deliveries that failed for good (src/infra/deadLetters.ts):
// the list's query, the retry's path, and what both answer.

export const deadLetterListQuerySchema = z
  .object({
    kind: z.enum(deliveryKinds).optional().meta({ description: 'Emails or webhooks only; both when left out' }),
    limit: z.coerce.number().int().min(1).max(500).default(50).meta({ description: 'At most this many of each kind, newest first (1–500, default 50)' }),
  })
  .strict();

export const deadLetterParamsSchema = z.object({ kind: z.enum(deliveryKinds), id: z.uuid() });

export const deadLetterSchema = z.object({
  kind: z.enum(deliveryKinds),
  id: z.uuid().meta({ description: 'The outbox row: what retry takes' }),
  jobId: z.string().meta({ description: 'The delivery id (a webhook’s X-Partnerflow-Delivery); a retry keeps it, so a receiver still drops a duplicate' }),
  what: z.string().meta({ description: 'The email’s template or the webhook’s event type' }),
  to: z.string().meta({ description: 'The recipient address or the webhook URL' }),
  attempts: z.number().int(),
  error: z.string().nullable().meta({ description: 'The last failure' }),
  failedAt: z.iso.datetime({ offset: true }),
  relationshipId: z.uuid().nullable(),
});

export const deadLetterListSchema = z.object({
  counts: z.object({ mail: z.number().int(), webhook: z.number().int() }).meta({ description: 'Every dead letter there is, by kind (the list is limited)' }),
  deadLetters: z.array(deadLetterSchema),
});
