import type { Request, Response } from 'express';
import { csrfFormSchema } from './formSchemas.js';
import { requireCsrf, SESSION_MS, type CustomerSession, type CustomerSessions } from './customerSession.js';

// The HTTP side of a customer session: the cookie that carries its id, and the
// CSRF field of a signed-in customer's forms. The session's rules and rows are
// in customerSession.ts. The cookie is signed by cookie-parser with
// SESSION_SECRET, httpOnly and SameSite=Lax; over https it is Secure and named
// with the __Host- prefix, which browsers only accept from that exact host.

export function createSessionCookie(secure: boolean) {
  const name = secure ? '__Host-pf_session' : 'pf_session';
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure };

  /** The session id the browser sent, if any. */
  function idOf(req: Request): string | undefined {
    const raw: unknown = (req.signedCookies as Record<string, unknown> | undefined)?.[name];
    return typeof raw === 'string' && raw.length > 0 ? raw : undefined;
  }

  function set(res: Response, id: string): void {
    res.cookie(name, id, { ...cookieOptions, signed: true, maxAge: SESSION_MS });
  }

  /** Drops the cookie only (the session row is gone already). */
  function clear(res: Response): void {
    res.clearCookie(name, cookieOptions);
  }

  return { name, idOf, set, clear };
}

export type SessionCookie = ReturnType<typeof createSessionCookie>;

/** The CSRF token a form carries, when it carries a well-formed one. */
export function csrfOf(body: unknown): string | undefined {
  const parsed = csrfFormSchema.safeParse(body);
  return parsed.success ? parsed.data.csrf : undefined;
}

/** What the routes of a signed-in customer share: who is signed in, and the CSRF check of their forms. */
export function signedInCustomer(sessions: CustomerSessions, cookie: SessionCookie) {
  /** The signed-in admin, or undefined; the cookie of a session that has just ended (no longer an admin) is dropped. */
  async function currentAdmin(req: Request, res: Response): Promise<CustomerSession | undefined> {
    const found = await sessions.currentAdmin(cookie.idOf(req));
    if (!found.current && found.ended) cookie.clear(res);
    return found.current;
  }

  /** Throws `forbidden` unless the posted form carries this session's CSRF token. */
  function checkCsrf(req: Request, current: CustomerSession): void {
    requireCsrf(current, csrfOf(req.body));
  }

  /** Ends the browser's session on the server, then drops its cookie (a live session's form must carry its CSRF token). */
  async function signOut(req: Request, res: Response): Promise<void> {
    await sessions.signOut(cookie.idOf(req), csrfOf(req.body));
    cookie.clear(res);
  }

  return { currentAdmin, checkCsrf, signOut, cookie };
}

export type SignedInCustomer = ReturnType<typeof signedInCustomer>;
