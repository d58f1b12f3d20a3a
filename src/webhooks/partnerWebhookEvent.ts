import { z } from 'zod';

// The webhooks about the partner itself rather than one of its relationships:
// the operator paused or resumed all of its access. The same delivery, signing
// and retries as relationship events (docs/webhooks.md); partners rely on the
// shape, so fields are added, never renamed or removed.

export const partnerEventTypes = ['partner.paused', 'partner.resumed'] as const;

export type PartnerEventType = (typeof partnerEventTypes)[number];

export const partnerWebhookEventSchema = z
  .object({
    id: z.string().meta({ description: 'Stable across retries, and the same if the operator repeats the call: receivers drop ids they have seen.' }),
    type: z.enum(partnerEventTypes),
    createdAt: z.iso.datetime({ offset: true }),
    data: z.object({
      partnerId: z.uuid(),
      paused: z.boolean().meta({ description: 'Whether the partner is paused after this event.' }),
      pausedAt: z.iso.datetime({ offset: true }).nullable().meta({ description: 'Since when the partner is paused (null once resumed).' }),
      reason: z.string().meta({ description: 'The operator’s reason, as audited.' }),
    }),
  })
  .meta({
    description:
      'The operator paused (`partner.paused`) or resumed (`partner.resumed`) the partner. While paused, the access check answers no for every relationship of the partner, new offers are refused (409 `/problems/partnerPaused`) and invitations cannot be accepted; timers keep running. Resuming restores what was.',
  });

export type PartnerWebhookEvent = z.infer<typeof partnerWebhookEventSchema>;

/** The event of one pause or resume, identified by the audit key of that change (no `:`, never all digits, as BullMQ requires). */
export function partnerEvent(input: { changeKey: string; type: PartnerEventType; partnerId: string; at: Date; pausedAt: Date | null; reason: string }): PartnerWebhookEvent {
  return {
    id: input.changeKey,
    type: input.type,
    createdAt: input.at.toISOString(),
    data: { partnerId: input.partnerId, paused: input.pausedAt !== null, pausedAt: input.pausedAt?.toISOString() ?? null, reason: input.reason },
  };
}
