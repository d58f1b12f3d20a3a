import { z } from 'zod';
import { domainSchema, emailAddressSchema, tenantNameSchema } from '../tenants/tenantIdentifiers.js';

// The customer pages' forms (application/x-www-form-urlencoded) and query strings.

/**
 * The authorization form, and the trial and purchase steps that continue it (`trial` is set from
 * the trial step on, `purchase` and `agree` only on the purchase step).
 */
export const invitationAnswerFormSchema = z.object({
  choice: z.enum(['yes', 'no']),
  reason: z.string().trim().max(2000).optional(),
  trial: z.enum(['start', 'skip']).optional(),
  purchase: z.enum(['confirm', 'skip']).optional(),
  /** The agreement box: a browser sends it only when it is ticked. */
  agree: z.literal('yes').optional(),
});

/**
 * The purchase step's answer: confirming needs the agreement ticked (the customer's explicit
 * consent to be billed); continuing without buying needs nothing. The message is the page's.
 */
export const purchaseAnswerSchema = z.discriminatedUnion('purchase', [
  z.object({
    purchase: z.literal('confirm'),
    agree: z.literal('yes', { error: 'To confirm the purchase, tick the box to agree to it first, or choose Continue without purchasing.' }),
  }),
  z.object({ purchase: z.literal('skip') }),
]);

export const signInFormSchema = z.object({ tenantDomain: domainSchema, email: emailAddressSchema });

export const newTenantFormSchema = z.object({ tenantDomain: domainSchema, name: tenantNameSchema, email: emailAddressSchema });

/**
 * The invitation page's "prove the domain" form: the organisation name, read as
 * the one field it is (a missing or repeated field says so in the page's message).
 */
export const organisationNameFieldSchema = tenantNameSchema;

/** The admins page's forms: invite an address, or remove one. */
export const adminEmailFormSchema = z.object({ email: emailAddressSchema, csrf: z.string().min(1).max(200) });

/** The invitation token the self-service verification came from, if any: it is linked back to at the end. */
export const verifyDomainFormSchema = z.object({ invitation: z.string().regex(/^[A-Za-z0-9_-]{20,100}$/).optional() });

/** Every form a signed-in customer posts carries the session's CSRF token. */
export const csrfFormSchema = z.object({ csrf: z.string().min(1).max(200) });

export const partnerListQuerySchema = z.object({ filter: z.enum(['active', 'ended', 'all']).default('active') });
