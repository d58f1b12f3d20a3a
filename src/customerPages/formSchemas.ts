import { z } from 'zod';
import { domainSchema, emailAddressSchema, tenantNameSchema } from '../tenants/tenantIdentifiers.js';

// The customer pages' forms (application/x-www-form-urlencoded) and query strings.

/** The authorization form, and the trial step that continues it (`trial` is set only there). */
export const invitationAnswerFormSchema = z.object({
  choice: z.enum(['yes', 'no']),
  reason: z.string().trim().max(2000).optional(),
  trial: z.enum(['start', 'skip']).optional(),
});

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
