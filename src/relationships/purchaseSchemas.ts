import { z } from 'zod';
import { completionDeadlineRange, purchaseRanges, purchaseTerms, purchaseTermNames } from '../contract/purchase.js';
import { rangeMessage, type Range } from '../contract/policy.js';
import { displayNameSchema, paragraphSchema } from '../validation/text.js';

// The purchase a partner offers and the completion its system sends back, checked
// at the edge against the contract's ranges (src/contract/purchase.ts).

const wholeNumber = (range: Range) => {
  const message = rangeMessage(range);
  return z.number(message).int(`${message} (a whole number)`).min(range.min, message).max(range.max, message);
};

const { productLength, seats, amountPattern, externalRefLength, failureReasonLength } = purchaseRanges;

export const purchaseOfferSchema = z
  .object({
    product: displayNameSchema
      .pipe(z.string().max(productLength.max, `must be at most ${productLength.max} characters`))
      .meta({ description: 'What is sold, as the customer will read it, e.g. "Business Premium".' }),
    seats: wholeNumber(seats),
    term: z.enum(purchaseTerms).meta({
      description: `One billing term, ISO 8601: ${purchaseTerms.map((t) => `${t} (${purchaseTermNames[t]})`).join(', ')}.`,
    }),
    pricePerSeat: z
      .object({
        amount: z
          .string()
          .regex(amountPattern, 'must be a decimal string such as "12.50" (up to 9 digits before the point and 4 after it)')
          .meta({ examples: ['12.50'] }),
        currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code in capitals, such as "EUR"'),
      })
      .strict()
      .meta({ description: 'Per seat per term; the partner bills it.' }),
    autoRenew: z.boolean().default(false),
  })
  .strict();

/** How long the partner's system may take to complete a request, in seconds (with short durations allowed: from 1 s). */
export const provisioningDeadlineSchemaFor = (allowShortDurations: boolean) => {
  const range = completionDeadlineRange(allowShortDurations);
  return wholeNumber(range).meta({
    description: `Seconds the partner's system has to complete a subscription request (POST /relationships/{id}/subscription); default ${purchaseRanges.completionDeadlineSeconds.default}.`,
  });
};

/** The partner's system's answer to `subscription.requested` or `trial.requested`. */
export const provisioningCompletionSchema = z.discriminatedUnion('status', [
  z
    .object({
      status: z.literal('active'),
      externalRef: z
        .string()
        .min(externalRefLength.min, 'must not be empty')
        .max(externalRefLength.max, `must be at most ${externalRefLength.max} characters`)
        .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
        .meta({ description: "The subscription's or trial's id in the partner's system." }),
    })
    .strict(),
  z
    .object({
      status: z.literal('failed'),
      reason: paragraphSchema(failureReasonLength.max).meta({ description: 'Why it could not be created; told to the customer.' }),
    })
    .strict(),
]);

export type ProvisioningCompletionRequest = z.infer<typeof provisioningCompletionSchema>;
