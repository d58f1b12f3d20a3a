import type { Request, Response } from 'express';
import { z } from 'zod';
import { constantTimeEqual, newToken } from '../infra/tokens.js';
import type { TenantDirectory } from '../tenants/tenantDirectory.js';
import { AppError } from './errors.js';
import { csrfFormSchema } from './schemas.js';

// The customer's session lives in a signed, httpOnly, SameSite=Lax cookie
// (cookie-parser signs it with SESSION_SECRET). It carries a CSRF token that
// every form of a signed-in customer echoes back, so another site cannot post
// on the customer's behalf. Served over https the cookie is Secure and named
// with the __Host- prefix, which browsers only accept from that exact host.

const SESSION_HOURS = 8;

const sessionSchema = z.object({ tenant: z.string(), email: z.string(), csrf: z.string(), exp: z.number() });
export type CustomerSession = z.infer<typeof sessionSchema>;

export function sessionCookies(secure: boolean) {
  const name = secure ? '__Host-pf_session' : 'pf_session';

  function start(res: Response, tenant: string, email: string): void {
    const session: CustomerSession = { tenant, email, csrf: newToken(16), exp: Date.now() + SESSION_HOURS * 3_600_000 };
    res.cookie(name, JSON.stringify(session), {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      secure,
      maxAge: SESSION_HOURS * 3_600_000,
      path: '/',
    });
  }

  function read(req: Request): CustomerSession | undefined {
    const raw: unknown = (req.signedCookies as Record<string, unknown> | undefined)?.[name];
    if (typeof raw !== 'string') return undefined;
    try {
      const parsed = sessionSchema.safeParse(JSON.parse(raw));
      return parsed.success && parsed.data.exp > Date.now() ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  function end(res: Response): void {
    res.clearCookie(name, { path: '/', httpOnly: true, sameSite: 'lax', secure });
  }

  return { name, start, read, end };
}

export type SessionCookies = ReturnType<typeof sessionCookies>;

/**
 * The signed-in admin, checked against the tenant directory on every request:
 * a session counts only while its address is still an admin of its tenant, so
 * removing an admin ends what that admin can do at once.
 */
export async function signedInAdmin(cookies: SessionCookies, tenants: Pick<TenantDirectory, 'isAdmin'>, req: Request, res: Response) {
  const current = cookies.read(req);
  if (!current) return undefined;
  if (await tenants.isAdmin(current.tenant, current.email)) return current;
  cookies.end(res);
  return undefined;
}

/** Every form a signed-in admin posts carries the session's CSRF token, so another site cannot post for them. */
export function checkCsrf(req: Request, current: CustomerSession): void {
  const parsed = csrfFormSchema.safeParse(req.body);
  if (!parsed.success || !constantTimeEqual(parsed.data.csrf, current.csrf)) {
    throw new AppError('forbidden', 'The form expired; reload the page and try again.');
  }
}
