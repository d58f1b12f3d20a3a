import { z } from 'zod';
import { relationshipStatuses } from '../contract/statuses.js';
import { provisioners, purchaseTerms, subscriptionStatuses } from '../contract/purchase.js';

// What the JSON API answers. The OpenAPI document is generated from these, and
// the API tests parse real responses with them, so the document can't drift
// from what the server sends.

const timestamp = z.iso.datetime({ offset: true });
const nullableTimestamp = timestamp.nullable();

export const statusSchema = z.string().meta({
  description: `Relationship status. Known values: ${relationshipStatuses.join(', ')}. Clients must tolerate new ones.`,
  examples: ['invited', 'active'],
});

const actorSchema = z.object({
  type: z.string().meta({ description: 'partner, customer, operator or system' }),
  id: z.string().nullable().optional(),
});

const moneySchema = z.object({ amount: z.string().meta({ examples: ['12.50'] }), currency: z.string().meta({ examples: ['EUR'] }) });

export const relationshipSchema = z.object({
  id: z.uuid(),
  status: statusSchema,
  partnerId: z.uuid(),
  customer: z.object({ tenantDomain: z.string(), name: z.string().nullable(), adminEmail: z.string() }),
  roles: z.array(z.string()),
  terms: z.string().nullable(),
  autoExtend: z.boolean(),
  invitationExpiresAt: nullableTimestamp,
  invitationDeliveryFailure: z
    .object({ at: timestamp, reason: z.string().nullable() })
    .nullable()
    .meta({ description: "The invitation could not be delivered: the customer's mail server refused it (or its reminder) for good. The partner is also emailed." }),
  acceptedAt: nullableTimestamp,
  activatedAt: nullableTimestamp,
  endsAt: nullableTimestamp,
  endedAt: nullableTimestamp,
  trial: z
    .object({
      offer: z.string(),
      seats: z.number().int(),
      days: z.number().int(),
      status: z.string().optional().meta({ description: 'provisioning (the provider makes it), requested (your system was asked: trial.requested), active, failed, skipped or cancelled; absent while only offered. Clients must tolerate new values.' }),
      endsAt: nullableTimestamp.optional(),
      failureReason: z.string().nullable().optional(),
    })
    .nullable(),
  subscription: z
    .object({
      status: z.string().meta({ description: `Known values: ${subscriptionStatuses.join(', ')} (docs/commerce.md). Clients must tolerate new ones.` }),
      product: z.string(),
      seats: z.number().int(),
      term: z.string().meta({ description: `ISO 8601 billing term: ${purchaseTerms.join(', ')}` }),
      pricePerSeat: moneySchema,
      total: moneySchema.meta({ description: 'seats × price per seat, per term' }),
      autoRenew: z.boolean(),
      agreedAt: nullableTimestamp.meta({ description: 'When the customer agreed to the purchase' }),
      agreedBy: z.string().nullable().optional().meta({ description: 'The admin who agreed: operators only' }),
      requestedAt: nullableTimestamp.meta({ description: "When the partner's system was asked (subscription.requested)" }),
      deadlineAt: nullableTimestamp.meta({ description: "Until when the partner's system may complete the request" }),
      completedAt: nullableTimestamp,
      externalRef: z.string().nullable().meta({ description: "The subscription's id in the partner's system" }),
      failureReason: z.string().nullable(),
    })
    .nullable()
    .meta({ description: 'The purchase offered with the relationship and where it stands; null without one.' }),
  transitions: z.array(
    z.object({ from: statusSchema.nullable(), to: statusSchema, at: timestamp, actor: actorSchema, reason: z.string().nullable() }),
  ),
  workflowId: z.string(),
  links: z.object({ temporalUi: z.url().meta({ description: 'The workflow in the Temporal Web UI' }) }),
  createdAt: timestamp,
  updatedAt: timestamp,
  version: z.number().int().meta({ description: 'Sequence number of the last transition' }),
});

export const relationshipListSchema = z.object({ relationships: z.array(relationshipSchema) });

export const partnerCreatedSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  contactEmail: z.string(),
  provisioner: z.enum(provisioners),
  apiKey: z.string().optional().meta({ description: 'Shown only in the first answer (not in an Idempotency-Key replay); only its hash is kept.' }),
  webhookSecret: z.string().optional().meta({ description: 'HMAC key for verifying webhook signatures; shown like apiKey.' }),
});

export const partnerListSchema = z.object({
  partners: z.array(
    z.object({
      id: z.uuid(),
      name: z.string(),
      contactEmail: z.string(),
      webhookUrl: z.string().nullable(),
      provisioner: z.enum(provisioners).meta({ description: 'Who creates its trials and subscriptions (docs/commerce.md)' }),
      apiKeyPrefix: z.string().nullable().meta({ description: 'First characters of the newest live API key, to tell keys apart; null when none is live (GET /admin/partners/{id}/keys lists them all)' }),
      createdAt: timestamp,
      pausedAt: timestamp.nullable().meta({ description: 'Since when the operator has the partner paused (POST /admin/partners/{id}/pause); null when it is not' }),
    }),
  ),
});

export const roleCatalogSchema = z.object({
  roles: z.array(z.object({ id: z.string(), name: z.string(), description: z.string() })),
});

export const accessAnswerSchema = z.object({ allowed: z.boolean(), relationshipId: z.uuid().optional() });

export const accessBatchAnswerSchema = z.object({
  results: z
    .array(
      accessAnswerSchema.extend({
        partner: z.uuid().optional().meta({ description: 'As asked (left out when a partner key left it out)' }),
        tenant: z.string(),
        role: z.string(),
      }),
    )
    .meta({ description: 'One answer per question, in the order asked' }),
});

export const problemSchema = z
  .object({
    type: z.string().meta({ description: 'Stable identifier of the problem, `/problems/<code>`; branch on this.' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    reason: z.string().optional(),
    retryAfterSeconds: z.number().optional(),
  })
  .loose()
  .meta({ description: 'RFC 9457 problem details' });

export const livenessSchema = z.object({ status: z.literal('ok') });

export const readinessSchema = z.object({
  status: z.enum(['ready', 'not ready']),
  checks: z.record(z.enum(['postgres', 'redis', 'temporal']), z.object({ ok: z.boolean(), error: z.string().optional() })),
});

export const tenantSchema = z.object({
  domain: z.string().meta({ description: 'Lower case, punycode for international names, no trailing dot' }),
  name: z.string(),
  registeredVia: z.string().meta({ description: 'operator or dns (self-service proof)' }),
  admins: z.array(
    z.object({
      email: z.string(),
      addedVia: z.string().meta({ description: 'operator, dns or admin (added by another admin and confirmed by email)' }),
      verifiedAt: timestamp,
    }),
  ),
  createdAt: timestamp,
  updatedAt: timestamp,
});
