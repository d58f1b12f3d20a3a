import { z } from 'zod';

// The webhooks about a trial the partner's own system provisions (docs/commerce.md):
// `trial.requested` asks it to create the trial the customer took; it answers through
// POST /relationships/{id}/trial before `deadlineAt`. The others tell where the
// trial got to. Same delivery, signing and retries as every webhook (docs/webhooks.md).

export const trialEventTypes = ['trial.requested', 'trial.active', 'trial.failed', 'trial.cancelled'] as const;

export type TrialEventType = (typeof trialEventTypes)[number];

const timestamp = z.iso.datetime({ offset: true });

export const trialWebhookEventSchema = z
  .object({
    id: z.string().meta({ description: 'Stable across retries (workflow id + step): receivers drop ids they have seen, so a request is never acted on twice.' }),
    type: z.enum(trialEventTypes),
    createdAt: timestamp,
    data: z.object({
      relationshipId: z.uuid(),
      partnerId: z.uuid(),
      tenantDomain: z.string(),
      trial: z.object({
        status: z.string().meta({ description: 'requested, active, failed or cancelled' }),
        offer: z.string().meta({ description: 'What the trial is of, as the offer named it' }),
        seats: z.number().int(),
        days: z.number().int(),
        requestedAt: timestamp.nullable(),
        deadlineAt: timestamp.nullable().meta({ description: 'Complete the request before this, or the trial is marked failed' }),
        externalRef: z.string().nullable(),
        failureReason: z.string().nullable(),
      }),
      completeUrl: z.string().nullable().meta({ description: 'Where to complete a `trial.requested` (POST, partner API key); null on other events.' }),
    }),
  })
  .meta({
    description:
      'A trial your own system provisions (your provisioner is `partner`): create it on `trial.requested` and complete it with POST /relationships/{id}/trial before `deadlineAt`; then it is active or failed (your answer, or the deadline passed); `trial.cancelled`: the relationship ended first, do not create it.',
  });

export type TrialWebhookEvent = z.infer<typeof trialWebhookEventSchema>;
