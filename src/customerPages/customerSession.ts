import type { Request, Response } from 'express';
import type { Database } from '../infra/database.js';
import { constantTimeEqual, hashToken, newToken } from '../infra/tokens.js';
import type { TenantDirectory } from '../tenants/tenantDirectory.js';
import { AppError } from '../http/errors.js';
import { csrfFormSchema } from './formSchemas.js';

// A customer's session lives on the server (customer_sessions). The cookie
// holds only a random session id (signed by cookie-parser with
// SESSION_SECRET); the table holds its sha256, so a database reader cannot
// replay a session, and deleting the row ends the session everywhere, also
// for a copied cookie: on sign-out, and when the admin is removed (the
// tenant directory deletes the rows in the same transaction). The cookie is
// httpOnly and SameSite=Lax; over https it is Secure and named with the
// __Host- prefix, which browsers only accept from that exact host. Each
// session has a CSRF token that every form of a signed-in customer echoes.

const SESSION_MS = 8 * 3_600_000;
/** A session nobody used for this long ends, even within its 8 hours. */
const IDLE_MS = 60 * 60_000;
/** lastSeenAt is written at most this often: one UPDATE per minute of activity, not per request. */
const TOUCH_EVERY_MS = 60_000;

export interface CustomerSession {
  /** The row id (not the secret cookie value). */
  id: string;
  tenant: string;
  email: string;
  csrf: string;
}

export function sessionCookies(db: Database, secure: boolean) {
  const name = secure ? '__Host-pf_session' : 'pf_session';
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure };

  function cookieOf(req: Request): string | undefined {
    const raw: unknown = (req.signedCookies as Record<string, unknown> | undefined)?.[name];
    return typeof raw === 'string' && raw.length > 0 ? raw : undefined;
  }

  /** Starts a session; one the browser already had ends first, so a browser holds one session at a time. */
  async function start(req: Request, res: Response, tenant: string, email: string): Promise<void> {
    const previous = cookieOf(req);
    if (previous) await db.customerSession.deleteMany({ where: { tokenHash: hashToken(previous) } });
    const now = Date.now();
    // This admin's dead sessions go now: the table holds live sessions and little else.
    await db.customerSession.deleteMany({
      where: { tenantDomain: tenant, email, OR: [{ expiresAt: { lte: new Date(now) } }, { lastSeenAt: { lte: new Date(now - IDLE_MS) } }] },
    });
    const id = newToken();
    await db.customerSession.create({
      data: { tokenHash: hashToken(id), tenantDomain: tenant, email, csrf: newToken(16), expiresAt: new Date(now + SESSION_MS) },
    });
    res.cookie(name, id, { ...cookieOptions, signed: true, maxAge: SESSION_MS });
  }

  async function read(req: Request): Promise<CustomerSession | undefined> {
    const id = cookieOf(req);
    if (!id) return undefined;
    const row = await db.customerSession.findUnique({ where: { tokenHash: hashToken(id) } });
    if (!row) return undefined;
    const now = Date.now();
    if (row.expiresAt.getTime() <= now || row.lastSeenAt.getTime() <= now - IDLE_MS) {
      await db.customerSession.deleteMany({ where: { id: row.id } });
      return undefined;
    }
    if (row.lastSeenAt.getTime() <= now - TOUCH_EVERY_MS) {
      await db.customerSession.updateMany({ where: { id: row.id }, data: { lastSeenAt: new Date(now) } });
    }
    return { id: row.id, tenant: row.tenantDomain, email: row.email, csrf: row.csrf };
  }

  /** Drops the cookie only (the row is gone already, or `signOut` removes it). */
  function end(res: Response): void {
    res.clearCookie(name, cookieOptions);
  }

  /** Signing out deletes the session on the server: the cookie, even a copy of it, opens nothing afterwards. */
  async function signOut(req: Request, res: Response): Promise<void> {
    const id = cookieOf(req);
    if (id) await db.customerSession.deleteMany({ where: { tokenHash: hashToken(id) } });
    end(res);
  }

  return { name, start, read, end, signOut };
}

export type SessionCookies = ReturnType<typeof sessionCookies>;

/**
 * The signed-in admin. Besides the session row, the tenant directory is
 * checked on every request: the session counts only while its address is
 * still an admin of its tenant (removal deletes the rows too; this check is
 * the second line, for any path that changes admins without doing so).
 */
export async function signedInAdmin(cookies: SessionCookies, tenants: Pick<TenantDirectory, 'isAdmin'>, req: Request, res: Response) {
  const current = await cookies.read(req);
  if (!current) return undefined;
  if (await tenants.isAdmin(current.tenant, current.email)) return current;
  await cookies.signOut(req, res);
  return undefined;
}

/** Every form a signed-in admin posts carries the session's CSRF token, so another site cannot post for them. */
export function checkCsrf(req: Request, current: CustomerSession): void {
  const parsed = csrfFormSchema.safeParse(req.body);
  if (!parsed.success || !constantTimeEqual(parsed.data.csrf, current.csrf)) {
    throw new AppError('forbidden', 'The form expired; reload the page and try again.');
  }
}
