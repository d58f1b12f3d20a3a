import type { Database } from '../infra/database.js';
import type { Logger } from '../infra/logger.js';
import { linkFor } from '../infra/linkTokens.js';
import { hashToken } from '../infra/tokens.js';
import type { MailOutbox } from '../mail/mailOutbox.js';
import { lockTenant, type TenantDirectory } from '../tenants/tenantDirectory.js';

// Sign-in links: made and emailed only for a verified admin, opened by a GET
// that changes nothing (a mail scanner may prefetch it), used by a POST.
//
// Emails to one admin are bounded without ever refusing the admin: a new link
// is sent unless that admin already has a live (unused, unexpired) link sent
// less than `resendAfterMs` ago; then the answer is that link. So an attacker
// who asks for the admin's address again and again sends at most one email
// per `resendAfterMs` (and per link lifetime), and the admin, asking too,
// always has a working link in the inbox.

export const SIGN_IN_TTL_MS = 15 * 60_000;

export interface SignInLinkDeps {
  db: Database;
  tenants: Pick<TenantDirectory, 'isAdmin'>;
  mail: MailOutbox;
  linkSecret: string;
  log: Logger;
  /** SIGN_IN_EMAILS_PER_HOUR as a spacing: 10 an hour means at most one per 6 minutes. */
  emailsPerHour: number;
}

export type AskOutcome = 'notAdmin' | 'recentLinkStands' | 'sent';

export function createSignInLinks(deps: SignInLinkDeps) {
  const { db, tenants, log } = deps;
  const resendAfterMs = Math.ceil(3_600_000 / deps.emailsPerHour);

  /**
   * Runs after the answer is sent, so the request's time and response never
   * depend on whether the address is an admin.
   */
  async function sendIfAdmin(tenantDomain: string, email: string): Promise<AskOutcome> {
    const tenant = await db.tenant.findUnique({ where: { domain: tenantDomain } });
    if (!tenant || !(await tenants.isAdmin(tenantDomain, email))) return 'notAdmin';
    const link = linkFor(deps.linkSecret, 'signIn');
    const expiresAt = new Date(Date.now() + SIGN_IN_TTL_MS);
    // The tenant's row lock serializes asks for it: a burst of parallel asks makes one link, not many.
    const row = await db.$transaction(async (tx) => {
      if (!(await lockTenant(tx, tenantDomain))) return null;
      const now = new Date();
      const recent = await tx.signInToken.findFirst({
        where: { tenantDomain, email, usedAt: null, expiresAt: { gt: now }, createdAt: { gt: new Date(now.getTime() - resendAfterMs) } },
      });
      if (recent) return null;
      return tx.signInToken.create({ data: { id: link.id, tokenHash: link.tokenHash, tenantDomain, email, expiresAt } });
    });
    if (!row) return 'recentLinkStands';
    const job = { template: 'signIn' as const, to: email, link: link.ref, data: { customerName: tenant.name, tenantDomain, expiresAt: expiresAt.toISOString() } };
    try {
      await deps.mail.enqueue(`signin-${row.id}`, job);
    } catch (err) {
      // A link nobody was told about must not hold back the next ask.
      await db.signInToken.deleteMany({ where: { id: row.id } });
      throw err;
    }
    return 'sent';
  }

  /** The ask, detached from the request; failures are logged (the person can ask again). */
  function askInBackground(tenantDomain: string, email: string): void {
    sendIfAdmin(tenantDomain, email).then(
      (outcome) => log.debug({ event: 'customer.sign_in_asked', tenant: tenantDomain, outcome }, 'sign-in asked'),
      (err: unknown) => log.warn({ event: 'customer.sign_in_email_failed', tenant: tenantDomain, err }, 'sign-in email not sent'),
    );
  }

  /** A link that would sign its holder in now (unused, unexpired, still an admin); changes nothing. */
  async function peek(token: string) {
    const row = await db.signInToken.findUnique({ where: { tokenHash: hashToken(token) } });
    if (!row || row.usedAt || row.expiresAt.getTime() <= Date.now()) return null;
    if (!(await tenants.isAdmin(row.tenantDomain, row.email))) return null;
    const tenant = await db.tenant.findUnique({ where: { domain: row.tenantDomain } });
    return tenant ? { tenantDomain: row.tenantDomain, tenantName: tenant.name, email: row.email } : null;
  }

  /** Uses the link: marked used in the same statement that checks it, so it works once even under a double click. */
  async function use(token: string) {
    const tokenHash = hashToken(token);
    const used = await db.signInToken.updateMany({ where: { tokenHash, usedAt: null, expiresAt: { gt: new Date() } }, data: { usedAt: new Date() } });
    const row = used.count === 1 ? await db.signInToken.findUnique({ where: { tokenHash } }) : null;
    // An admin removed after the link was sent gets nothing from it.
    if (!row || !(await tenants.isAdmin(row.tenantDomain, row.email))) return null;
    return { tenantDomain: row.tenantDomain, email: row.email };
  }

  return { sendIfAdmin, askInBackground, peek, use };
}

export type SignInLinks = ReturnType<typeof createSignInLinks>;
