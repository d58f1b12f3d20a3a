import { AppError, toAppError } from '../http/errors.js';
import { withRedis } from '../http/redisAvailability.js';
import type { RateLimit } from '../http/rateLimits.js';
import type { Logger } from '../infra/logger.js';
import type { MailOutbox } from '../mail/mailOutbox.js';
import type { TenantDirectory } from '../tenants/tenantDirectory.js';
import type { CustomerSession } from './customerSession.js';
import type { AdminsView } from './pages/tenantPages.js';

// The admins of a tenant, as its signed-in admins manage them (/tenant-admins),
// and the emailed confirmation that makes an invited address an admin. The
// directory keeps the invariants (no unproven address, never the last admin,
// every change audited); this is what the page may ask of it.

export interface TenantAdminsPageDeps {
  tenants: TenantDirectory;
  mail: MailOutbox;
  log: Logger;
  /**
   * Admin invitations per tenant per hour (ADMIN_INVITES_PER_HOUR). The email is
   * held by no per-recipient quota (its recipient may be waiting for it), so
   * without this an admin's session could mail any inbox without end.
   */
  inviteLimit: RateLimit;
}

export function createTenantAdminsPage(deps: TenantAdminsPageDeps) {
  const { tenants, log } = deps;

  /** The page's data for the signed-in admin; `notFound` if the tenant is gone. */
  async function view(current: CustomerSession): Promise<AdminsView> {
    const tenant = await tenants.get(current.tenant);
    if (!tenant) throw new AppError('notFound', 'No such organisation.');
    return { tenantName: tenant.name, domain: tenant.domain, me: current.email, admins: tenant.admins.map((a) => a.email), csrf: current.csrf };
  }

  /**
   * Emails `email` a link to confirm; it becomes an admin only then. An address
   * that is an admin already is `alreadyAdmin`; past the tenant's hourly limit,
   * `limited` (with the refusal, for its Retry-After) and nothing is written or sent.
   */
  async function invite(current: CustomerSession, email: string) {
    if (await tenants.isAdmin(current.tenant, email)) return { outcome: 'alreadyAdmin', view: await view(current) } as const;
    try {
      await withRedis('count the invitation', () => deps.inviteLimit.consume(current.tenant), 3_000);
    } catch (err) {
      const refusal = toAppError(err);
      if (refusal.code !== 'rateLimited') throw err;
      return { outcome: 'limited', refusal, view: await view(current) } as const;
    }
    const { link, invite } = await tenants.inviteAdmin(current.tenant, email, current.email);
    const page = await view(current);
    const job = {
      template: 'adminInvitation' as const,
      to: email,
      link,
      data: { customerName: page.tenantName, tenantDomain: page.domain, invitedBy: current.email, expiresAt: invite.expiresAt.toISOString() },
    };
    await withRedis('send the invitation', () => deps.mail.enqueue(`admin-invite-${invite.id}`, job), 3_000);
    log.info({ event: 'tenant.admin_invited', tenant: current.tenant }, 'admin invited');
    return { outcome: 'invited', view: page } as const;
  }

  /**
   * Removes an admin. The directory refuses the last admin (`conflict`) and an
   * address that is not one (`notFound`): `refused`, with its reason for the
   * page. An admin who removed themself is signed out (`removedSelf`): the
   * directory has deleted their sessions already.
   */
  async function remove(current: CustomerSession, email: string) {
    try {
      await tenants.removeAdmin(current.tenant, email, { type: 'customer', id: current.email });
    } catch (err) {
      const refusal = toAppError(err);
      if (refusal.code !== 'conflict' && refusal.code !== 'notFound') throw err;
      return { outcome: 'refused', refusal, view: await view(current) } as const;
    }
    log.info({ event: 'tenant.admin_removed', tenant: current.tenant }, 'admin removed');
    if (email === current.email) return { outcome: 'removedSelf' } as const;
    return { outcome: 'removed', view: await view(current) } as const;
  }

  /** The invited address confirms (the button's POST; the link's GET only shows `tenants.openAdminInvite`). */
  async function confirm(token: string) {
    const confirmed = await tenants.confirmAdminInvite(token);
    if (!confirmed.problem) log.info({ event: 'tenant.admin_added', tenant: confirmed.domain }, 'admin confirmed');
    return confirmed;
  }

  return { view, invite, remove, openInvite: tenants.openAdminInvite, confirm };
}

export type TenantAdminsPage = ReturnType<typeof createTenantAdminsPage>;
