import type { Database } from '../infra/database.js';
import { constantTimeEqual, hashToken, newToken } from '../infra/tokens.js';
import type { TenantDirectory } from '../tenants/tenantDirectory.js';
import { AppError } from '../http/errors.js';

// A customer's session lives on the server (customer_sessions). The cookie
// holds only a random session id (see sessionCookie.ts); the table holds its
// sha256, so a database reader cannot replay a session, and deleting the row
// ends the session everywhere, also for a copied cookie: on sign-out, and
// when the admin is removed (the tenant directory deletes the rows in the
// same transaction). Each session has a CSRF token that every form of a
// signed-in customer echoes. This module knows ids, never cookies or requests.

export const SESSION_MS = 8 * 3_600_000;
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

/** The signed-in admin, or nobody; `ended` when a session existed but its address is no longer an admin (its cookie should go). */
export type AdminSession = { current: CustomerSession } | { current: undefined; ended: boolean };

export function createCustomerSessions(db: Database, tenants: Pick<TenantDirectory, 'isAdmin'>) {
  /**
   * Starts a session and returns its id, for the cookie. The browser's previous
   * session (`previousId`) ends first, so a browser holds one session at a time.
   */
  async function start(previousId: string | undefined, tenant: string, email: string): Promise<string> {
    if (previousId) await db.customerSession.deleteMany({ where: { tokenHash: hashToken(previousId) } });
    const now = Date.now();
    // This admin's dead sessions go now: the table holds live sessions and little else.
    await db.customerSession.deleteMany({
      where: { tenantDomain: tenant, email, OR: [{ expiresAt: { lte: new Date(now) } }, { lastSeenAt: { lte: new Date(now - IDLE_MS) } }] },
    });
    const id = newToken();
    await db.customerSession.create({
      data: { tokenHash: hashToken(id), tenantDomain: tenant, email, csrf: newToken(16), expiresAt: new Date(now + SESSION_MS) },
    });
    return id;
  }

  /** The live session with this id; an expired or idle one is deleted on sight. */
  async function read(id: string | undefined): Promise<CustomerSession | undefined> {
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

  /** Deletes the session on the server: the cookie, even a copy of it, opens nothing afterwards. */
  async function end(id: string | undefined): Promise<void> {
    if (id) await db.customerSession.deleteMany({ where: { tokenHash: hashToken(id) } });
  }

  /**
   * The signed-in admin. Besides the session row, the tenant directory is
   * checked on every request: the session counts only while its address is
   * still an admin of its tenant (removal deletes the rows too; this check is
   * the second line, for any path that changes admins without doing so).
   */
  async function currentAdmin(id: string | undefined): Promise<AdminSession> {
    const current = await read(id);
    if (!current) return { current: undefined, ended: false };
    if (await tenants.isAdmin(current.tenant, current.email)) return { current };
    await end(id);
    return { current: undefined, ended: true };
  }

  /** Sign-out: a live session's form must carry its CSRF token (another site cannot sign the customer out); then the row goes. */
  async function signOut(id: string | undefined, csrf: string | undefined): Promise<void> {
    const current = await read(id);
    if (current) requireCsrf(current, csrf);
    await end(id);
  }

  return { start, currentAdmin, signOut };
}

export type CustomerSessions = ReturnType<typeof createCustomerSessions>;

/** Every form a signed-in admin posts carries the session's CSRF token, so another site cannot post for them. */
export function requireCsrf(current: CustomerSession, submitted: string | undefined): void {
  if (submitted === undefined || !constantTimeEqual(submitted, current.csrf)) {
    throw new AppError('forbidden', 'The form expired; reload the page and try again.');
  }
}
