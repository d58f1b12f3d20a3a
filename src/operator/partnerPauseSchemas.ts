import { z } from 'zod';
import { reasonSchema } from '../validation/text.js';

// What the operator sends and gets back when pausing or resuming a partner
// (src/partners/partnerPause.ts). `.strict()` refuses unknown fields.

export const partnerPauseRequestSchema = z
  .object({
    reason: reasonSchema.meta({ description: 'Why (required): kept in the audit log and told to the partner by webhook and email.' }),
  })
  .strict();

export const partnerPauseStateSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  paused: z.boolean(),
  pausedAt: z.iso.datetime({ offset: true }).nullable().meta({ description: 'Since when the partner is paused; null when it is not' }),
  pauseReason: z.string().nullable().meta({ description: 'The reason given when it was paused; null when it is not' }),
  changed: z.boolean().meta({ description: 'false: the partner already was paused (or not paused); nothing changed and nothing was sent again' }),
});
