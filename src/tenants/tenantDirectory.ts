import { randomUUID } from 'node:crypto';
import { appendAuditEvent } from '../audit/auditLog.js';
import { AppError } from '../http/errors.js';
import type { Actor } from '../contract/relationship.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Database } from '../infra/database.js';
import { linkFor } from '../infra/linkTokens.js';
import { hashToken } from '../infra/tokens.js';

// The tenant directory: which organisations exist and who may act for them.
// Only the operator, a person who proved the domain, or an existing admin ever
// writes here; nothing a partner sends reaches these tables. Every change is
// audited, and changes to one tenant's admins are serialized by a row lock so
// two concurrent removals can never leave it without an admin.

export type AdminSource = 'operator' | 'dns' | 'admin';

const ADMIN_INVITE_TTL_MS = 7 * 24 * 3_600_000;

export interface TenantView {
  domain: string;
  name: string;
  registeredVia: string;
  admins: { email: string; addedVia: string; verifiedAt: string }[];
  createdAt: string;
  updatedAt: string;
}

type Tx = Prisma.TransactionClient;

function actorFields(actor: Actor) {
  return { actorType: actor.type, actorId: actor.id ?? null };
}

/** One audit row of a tenant change; keyed per call, since each call is one change. */
async function audit(tx: Tx, domain: string, actor: Actor, action: string, data: Prisma.InputJsonObject) {
  await appendAuditEvent(tx, { idempotencyKey: `tenant-${randomUUID()}`, tenantDomain: domain, ...actorFields(actor), action, data });
}

async function lockTenant(tx: Tx, domain: string): Promise<boolean> {
  const rows = await tx.$queryRaw<{ domain: string }[]>`SELECT domain FROM tenants WHERE domain = ${domain} FOR UPDATE`;
  return rows.length === 1;
}

/**
 * A removed admin's sessions and unused sign-in links go with the admin, in
 * the same transaction: no copy of the session cookie works a moment later.
 * (The per-request admin check stays as a second line.)
 */
async function endAccess(tx: Tx, domain: string, email: string) {
  await tx.customerSession.deleteMany({ where: { tenantDomain: domain, email } });
  await tx.signInToken.deleteMany({ where: { tenantDomain: domain, email, usedAt: null } });
}

/** `linkSecret` derives admin-invitation link tokens (see linkTokens.ts); only their hashes are stored. */
export function createTenantDirectory(db: Database, linkSecret: string) {
  async function get(domain: string): Promise<TenantView | null> {
    const tenant = await db.tenant.findUnique({ where: { domain }, include: { admins: { orderBy: { verifiedAt: 'asc' } } } });
    if (!tenant) return null;
    return {
      domain: tenant.domain,
      name: tenant.name,
      registeredVia: tenant.registeredVia,
      admins: tenant.admins.map((a) => ({ email: a.email, addedVia: a.addedVia, verifiedAt: a.verifiedAt.toISOString() })),
      createdAt: tenant.createdAt.toISOString(),
      updatedAt: tenant.updatedAt.toISOString(),
    };
  }

  /** The operator's word: the tenant exists with exactly these admins (verified by definition). */
  async function put(domain: string, body: { name: string; admins: string[] }, actor: Actor): Promise<{ created: boolean; tenant: TenantView }> {
    const wanted = [...new Set(body.admins)];
    const created = await db.$transaction(async (tx) => {
      const exists = await lockTenant(tx, domain);
      if (!exists) {
        await tx.tenant.create({ data: { domain, name: body.name, registeredVia: 'operator' } });
        await audit(tx, domain, actor, 'tenant.registered', { name: body.name, via: 'operator' });
      } else {
        const before = await tx.tenant.findUniqueOrThrow({ where: { domain } });
        if (before.name !== body.name) {
          await tx.tenant.update({ where: { domain }, data: { name: body.name } });
          await audit(tx, domain, actor, 'tenant.renamed', { from: before.name, to: body.name });
        }
      }
      const current = (await tx.tenantAdmin.findMany({ where: { tenantDomain: domain } })).map((a) => a.email);
      for (const email of wanted.filter((e) => !current.includes(e))) {
        await tx.tenantAdmin.create({ data: { tenantDomain: domain, email, addedVia: 'operator', addedBy: actor.id ?? 'operator' } });
        await audit(tx, domain, actor, 'tenant.adminAdded', { email, via: 'operator' });
      }
      for (const email of current.filter((e) => !wanted.includes(e))) {
        await tx.tenantAdmin.delete({ where: { tenantDomain_email: { tenantDomain: domain, email } } });
        await endAccess(tx, domain, email);
        await audit(tx, domain, actor, 'tenant.adminRemoved', { email });
      }
      return !exists;
    });
    const tenant = await get(domain);
    if (!tenant) throw new AppError('internal', 'The tenant vanished while it was written.');
    return { created, tenant };
  }

  /** Removes one admin; never the last one, so a tenant always has someone who can act for it. */
  async function removeAdmin(domain: string, email: string, actor: Actor): Promise<void> {
    await db.$transaction(async (tx) => {
      if (!(await lockTenant(tx, domain))) throw new AppError('notFound', `No tenant ${domain}.`);
      const admins = await tx.tenantAdmin.findMany({ where: { tenantDomain: domain } });
      if (!admins.some((a) => a.email === email)) throw new AppError('notFound', `${email} is not an admin of ${domain}.`);
      if (admins.length === 1) {
        throw new AppError('conflict', 'The last admin of a tenant cannot be removed; add another admin first.', { reason: 'lastAdmin' });
      }
      await tx.tenantAdmin.delete({ where: { tenantDomain_email: { tenantDomain: domain, email } } });
      await endAccess(tx, domain, email);
      await audit(tx, domain, actor, 'tenant.adminRemoved', { email });
    });
  }

  async function isAdmin(domain: string, email: string): Promise<boolean> {
    const row = await db.tenantAdmin.findUnique({ where: { tenantDomain_email: { tenantDomain: domain, email: email.toLowerCase() } } });
    return row !== null;
  }

  async function adminsOf(domain: string): Promise<string[]> {
    const rows = await db.tenantAdmin.findMany({ where: { tenantDomain: domain }, orderBy: { verifiedAt: 'asc' } });
    return rows.map((r) => r.email);
  }

  /**
   * An admin asks to add another address. It becomes an admin only when its
   * owner confirms by the emailed link: the directory never holds an address
   * nobody has proven.
   */
  async function inviteAdmin(domain: string, email: string, invitedBy: string) {
    const link = linkFor(linkSecret, 'adminInvite');
    const expiresAt = new Date(Date.now() + ADMIN_INVITE_TTL_MS);
    const invite = await db.$transaction(async (tx) => {
      if (!(await lockTenant(tx, domain))) throw new AppError('notFound', `No tenant ${domain}.`);
      const row = await tx.tenantAdminInvite.create({ data: { id: link.id, tenantDomain: domain, email, invitedBy, tokenHash: link.tokenHash, expiresAt } });
      await audit(tx, domain, { type: 'customer', id: invitedBy }, 'tenant.adminInvited', { email });
      return row;
    });
    // The email's job gets the reference, never the token.
    return { link: link.ref, invite };
  }

  type InviteProblem = 'unknown' | 'expired' | 'used';

  async function openAdminInvite(token: string) {
    const invite = await db.tenantAdminInvite.findUnique({ where: { tokenHash: hashToken(token) } });
    if (!invite) return { problem: 'unknown' as InviteProblem };
    if (invite.acceptedAt) return { problem: 'used' as InviteProblem };
    if (invite.expiresAt.getTime() <= Date.now()) return { problem: 'expired' as InviteProblem };
    const tenant = await db.tenant.findUnique({ where: { domain: invite.tenantDomain } });
    if (!tenant) return { problem: 'unknown' as InviteProblem };
    return { problem: null, invite, tenant };
  }

  /** The invited address confirms; used once, in the same statement that checks it. */
  async function confirmAdminInvite(token: string): Promise<{ problem: InviteProblem } | { problem: null; domain: string; email: string; tenantName: string }> {
    const opened = await openAdminInvite(token);
    if (opened.problem) return { problem: opened.problem };
    const { invite, tenant } = opened;
    return db.$transaction(async (tx) => {
      if (!(await lockTenant(tx, invite.tenantDomain))) return { problem: 'unknown' as const };
      const claimed = await tx.tenantAdminInvite.updateMany({
        where: { id: invite.id, acceptedAt: null, expiresAt: { gt: new Date() } },
        data: { acceptedAt: new Date() },
      });
      if (claimed.count !== 1) return { problem: 'used' as const };
      const added = await tx.tenantAdmin.createMany({
        data: [{ tenantDomain: invite.tenantDomain, email: invite.email, addedVia: 'admin', addedBy: invite.invitedBy }],
        skipDuplicates: true,
      });
      if (added.count === 1) {
        await audit(tx, invite.tenantDomain, { type: 'customer', id: invite.email }, 'tenant.adminAdded', { email: invite.email, via: 'admin', invitedBy: invite.invitedBy });
      }
      return { problem: null, domain: invite.tenantDomain, email: invite.email, tenantName: tenant.name };
    });
  }

  return { get, put, removeAdmin, isAdmin, adminsOf, inviteAdmin, openAdminInvite, confirmAdminInvite };
}

export type TenantDirectory = ReturnType<typeof createTenantDirectory>;

export { audit as auditTenantChange, lockTenant };
