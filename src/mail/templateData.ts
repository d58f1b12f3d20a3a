import { z } from 'zod';
import { formatMoney, purchaseRanges, purchaseTermNames, purchaseTerms, purchaseTotal } from '../contract/purchase.js';
import { domainSchema, emailAddressSchema } from '../tenants/tenantIdentifiers.js';
import { displayNameSchema, httpUrlSchema, paragraphSchema, plainParagraph, reasonSchema, TERMS_MAX, termsSchema } from '../validation/text.js';

// What each email needs, checked before anything is filled in. Data often
// arrives as queued JSON, so dates are accepted as Date or ISO-8601 strings and
// optional fields become null: the templates run in Handlebars strict mode and
// every field they name must exist.

// Every field a person typed is checked by the same schema the API checked it
// with (src/validation/text.ts), so an email never refuses what the API accepted.

/** Names go into subject lines: one line (no header injection), no control or bidi characters. */
const singleLine = displayNameSchema;

const paragraph = paragraphSchema(TERMS_MAX);

const optionalTerms = termsSchema.nullable().default(null);

/**
 * A reason may come from a person (checked at the API) or from another system (a
 * trial provider's error, a mail server's refusal): it is cleaned, never refused.
 */
const optionalReason = z
  .string()
  .nullable()
  .default(null)
  .transform((value) => (value === null ? null : plainParagraph(value) || null));

/** Only http(s) links go into an href; `javascript:` and friends are refused. */
const link = httpUrlSchema;

const instant = z
  .union([z.date(), z.iso.datetime({ offset: true })])
  .transform((value) => (typeof value === 'string' ? new Date(value) : value));

const tenantDomain = domainSchema;

const role = z.object({
  name: singleLine,
  /** The role in plain words, as the customer should read it. */
  description: paragraph,
});

const trial = z.object({
  offer: singleLine,
  seats: z.number().int().positive(),
  days: z.number().int().positive(),
});

/**
 * A purchase offer (contract/purchase.ts), with its amounts worded once here for the templates:
 * formatMoney writes every amount and purchaseTotal makes the total exactly, so the email says
 * what the authorization page says.
 */
const purchase = z
  .object({
    product: singleLine,
    seats: z.number().int().min(purchaseRanges.seats.min).max(purchaseRanges.seats.max),
    term: z.enum(purchaseTerms),
    pricePerSeat: z.object({ amount: z.string().regex(purchaseRanges.amountPattern), currency: z.string().regex(/^[A-Z]{3}$/) }),
    autoRenew: z.boolean(),
  })
  .transform((offer) => ({
    ...offer,
    /** "year", "3 months": one term, as in "per year". */
    termName: purchaseTermNames[offer.term],
    price: formatMoney(offer.pricePerSeat),
    total: formatMoney(purchaseTotal(offer)),
  }));

/** Messages about the end of a relationship go to both sides, worded for each. */
const recipient = z.enum(['partner', 'customer']);

const parties = {
  partnerName: singleLine,
  /** The tenant's display name; callers fall back to the domain when it has none. */
  customerName: singleLine,
  tenantDomain,
};

const relationship = { ...parties, relationshipId: z.uuid() };

/**
 * Every email: its subject line and the schema of its data. Subjects are
 * Handlebars with the same helpers as the bodies but no HTML escaping (a subject
 * is a header, not markup); messages that go to both sides are worded neutrally.
 * The bodies are `emails/<name>.mjml` and `emails/<name>.txt.hbs`.
 */
export const emailRegistry = {
  invitation: {
    subject: '{{partnerName}} asks for admin access to {{customerName}}',
    schema: z.object({
      ...parties,
      partnerContactEmail: emailAddressSchema,
      roles: z.array(role).min(1),
      terms: optionalTerms,
      /** null: no fixed end; the relationship lasts until one side ends it. */
      durationSeconds: z.number().int().positive().nullable().default(null),
      autoExtend: z.boolean().default(false),
      trial: trial.nullable().default(null),
      /** A subscription the partner sells and bills; the customer decides on it after saying Yes. */
      purchase: purchase.nullable().default(null),
      expiresAt: instant,
      invitationUrl: link,
      /**
       * Set when someone at the customer who may not authorize partners passed the
       * request on to an admin (only admins can accept); the email says so.
       */
      forwardedBy: emailAddressSchema.nullable().default(null),
    }),
  },
  reminder: {
    subject: 'Reminder: the request from {{partnerName}} for admin access expires on {{date expiresAt}}',
    schema: z.object({
      ...parties,
      expiresAt: instant,
      invitationUrl: link,
    }),
  },
  accepted: {
    subject: '{{customerName}} accepted your partner request',
    schema: z.object({
      ...relationship,
      roles: z.array(role).min(1),
      acceptedAt: instant,
      endsAt: instant.nullable().default(null),
      trial: trial.nullable().default(null),
    }),
  },
  declined: {
    subject: '{{customerName}} declined your partner request',
    schema: z.object({
      ...relationship,
      declinedAt: instant,
      reason: optionalReason,
    }),
  },
  invitationExpired: {
    subject: 'Your partner request to {{customerName}} expired',
    schema: z.object({
      ...relationship,
      expiredAt: instant,
    }),
  },
  trialReady: {
    subject: 'Your {{trial.offer}} trial from {{partnerName}} is ready',
    schema: z.object({
      ...parties,
      trial,
      trialEndsAt: instant,
    }),
  },
  trialFailed: {
    subject: 'The {{trial.offer}} trial for {{customerName}} could not be created',
    schema: z.object({
      ...relationship,
      trial,
      reason: optionalReason,
    }),
  },
  /** The subscription emails (src/activities/subscriptionMail.ts, docs/commerce.md). The customer continued without the purchase: to the partner. */
  subscriptionDeclined: {
    subject: '{{customerName}} continued without buying {{purchase.product}}',
    schema: z.object({ ...relationship, purchase, declinedAt: instant }),
  },
  /** The partner's system (or the local provisioner) created it: to the customer. */
  subscriptionActive: {
    subject: 'Your {{purchase.product}} subscription from {{partnerName}} is active',
    schema: z.object({
      ...relationship,
      purchase,
      /** The subscription's id in the partner's system, as its completion gave it (printable ASCII). */
      externalRef: z.string().min(purchaseRanges.externalRefLength.min).max(purchaseRanges.externalRefLength.max).regex(/^[\x21-\x7e]+$/),
      activatedAt: instant,
    }),
  },
  /** The partner's system failed it, or its deadline passed: to both sides. */
  subscriptionFailed: {
    subject: 'The {{purchase.product}} subscription for {{customerName}} could not be set up',
    schema: z.object({ ...relationship, recipient, purchase, reason: optionalReason, failedAt: instant }),
  },
  removed: {
    subject: '{{customerName}} removed {{partnerName}} as a partner',
    schema: z.object({
      ...relationship,
      recipient,
      roles: z.array(role).min(1),
      removedAt: instant,
    }),
  },
  terminated: {
    subject: '{{partnerName}} ended its partner relationship with {{customerName}}',
    schema: z.object({
      ...relationship,
      recipient,
      roles: z.array(role).min(1),
      terminatedAt: instant,
      reason: optionalReason,
    }),
  },
  expired: {
    subject: 'The partner relationship between {{partnerName}} and {{customerName}} has ended',
    schema: z.object({
      ...relationship,
      recipient,
      roles: z.array(role).min(1),
      endedAt: instant,
    }),
  },
  endingSoon: {
    subject: 'The partner relationship between {{partnerName}} and {{customerName}} ends in {{plural daysLeft "day"}}',
    schema: z.object({
      ...relationship,
      recipient,
      daysLeft: z.number().int().positive(),
      endsAt: instant,
    }),
  },
  renewed: {
    subject: 'The partner relationship between {{partnerName}} and {{customerName}} was renewed',
    schema: z.object({
      ...relationship,
      recipient,
      durationSeconds: z.number().int().positive(),
      endsAt: instant,
    }),
  },
  signIn: {
    subject: 'Your sign-in link for partner relationships',
    schema: z.object({
      customerName: singleLine,
      tenantDomain,
      signInUrl: link,
      expiresAt: instant,
    }),
  },
  /**
   * Self-service registration at /tenants/new: proves the registrant receives mail
   * at the address given; the page behind the link shows the DNS TXT record that
   * proves the domain. `customerName` is whatever the registrant typed.
   */
  domainVerification: {
    subject: 'Verify {{tenantDomain}} for partner relationships',
    schema: z.object({
      customerName: singleLine,
      tenantDomain,
      verifyUrl: link,
      expiresAt: instant,
    }),
  },
  /** A verified admin added another admin, who confirms with a one-time link. */
  adminInvitation: {
    // invitedBy is an address (no line breaks), so the subject stays one header line.
    subject: '{{invitedBy}} invited you to administer partner relationships for {{customerName}}',
    schema: z.object({
      customerName: singleLine,
      tenantDomain,
      invitedBy: emailAddressSchema,
      confirmUrl: link,
      expiresAt: instant,
    }),
  },
  /** The operator suspended all of a partner's access (src/partners/partnerPause.ts); to its contact address. */
  partnerPaused: {
    subject: 'Your partner access is suspended',
    schema: z.object({
      partnerName: singleLine,
      partnerId: z.uuid(),
      pausedAt: instant,
      /** The operator's reason, checked by the schema the operator API checked it with. */
      reason: reasonSchema,
    }),
  },
  partnerResumed: {
    subject: 'Your partner access is resumed',
    schema: z.object({
      partnerName: singleLine,
      partnerId: z.uuid(),
      resumedAt: instant,
      reason: reasonSchema,
    }),
  },
  deliveryFailed: {
    subject: 'We could not deliver your invitation to {{customerName}}',
    schema: z.object({
      ...relationship,
      adminEmail: emailAddressSchema,
      reason: optionalReason,
    }),
  },
} satisfies Record<string, { subject: string; schema: z.ZodType }>;

export type EmailTemplateName = keyof typeof emailRegistry;

/** What a caller passes to render `N` (dates as Date or ISO strings, optional fields may be left out). */
export type EmailData<N extends EmailTemplateName> = z.input<(typeof emailRegistry)[N]['schema']>;

/** The same data after validation, as the templates see it. */
export type ParsedEmailData<N extends EmailTemplateName> = z.output<(typeof emailRegistry)[N]['schema']>;

export const emailTemplateNames = Object.keys(emailRegistry) as EmailTemplateName[];

export function isEmailTemplateName(name: string): name is EmailTemplateName {
  return Object.hasOwn(emailRegistry, name);
}
