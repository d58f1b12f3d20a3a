import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { displayNameSchema } from '../validation/text.js';

// One validation for each identifier of the tenant directory, used by the API,
// the customer pages and the operator CLI alike, so "Contoso.COM.", "contoso.com"
// and "xn--..." forms of one domain can never become two tenants.

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
// The last label is letters, or an IDN top-level domain in punycode (xn--p1ai).
const DOMAIN = new RegExp(`^(?=.{1,253}$)(?:${LABEL}\\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$`);

/**
 * A domain name as the tenant directory keys it: lower case, punycode for
 * international names (bücher.example → xn--bcher-kva.example), without the
 * trailing dot of a fully qualified name. Invalid punycode, IP addresses,
 * underscores, control and bidi characters are refused.
 */
export const domainSchema = z
  .string()
  .trim()
  .min(1, 'must be a domain name like contoso.com')
  .max(300, 'must be at most 253 characters')
  .transform((value, ctx) => {
    // domainToASCII reads its input as a URL's host and drops a path or query ("a.com/<b>" → "a.com"):
    // anything that delimits a URL, and control or format characters, are refused before it.
    if (/[/?#\\@:%\s\p{Cc}\p{Cf}]/u.test(value)) {
      ctx.addIssue({ code: 'custom', message: 'must be a domain name like contoso.com' });
      return z.NEVER;
    }
    const ascii = domainToASCII(value.endsWith('.') ? value.slice(0, -1) : value);
    if (!DOMAIN.test(ascii)) {
      ctx.addIssue({ code: 'custom', message: 'must be a domain name like contoso.com' });
      return z.NEVER;
    }
    return ascii;
  });

/** Email addresses of admins and contacts, compared in lower case everywhere. */
export const emailAddressSchema = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email('must be an email address like admin@contoso.com'))
  .transform((value) => value.toLowerCase());

/** An organisation's display name: the one schema for every name (one line, no control or bidi characters). */
export const tenantNameSchema = displayNameSchema;

/** The DNS name that holds a domain's proof of control. */
export const challengeRecordName = (domain: string) => `_partnerflow-challenge.${domain}`;
