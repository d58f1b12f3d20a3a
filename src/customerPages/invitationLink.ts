import type { Database } from '../infra/database.js';
import { hashToken } from '../infra/tokens.js';
import { storedPolicy, storedPurchaseOffer, storedTrialOffer } from '../relationships/storedOffer.js';
import type { TenantDirectory } from '../tenants/tenantDirectory.js';
import type { AuthorizationView, LinkProblem } from './pages/invitationPages.js';

// What an emailed invitation link opens, and what its holder may do with it.
// The link proves only that its holder reads the inbox it was sent to; an
// answer counts only while that address is a verified admin of the
// relationship's tenant, checked now (`authority`). A contact who is not an
// admin may forward the request (registered tenant) or prove the domain
// (unregistered one): invitationAnswers.ts and invitationForwarding.ts.

/** `admin`: may answer; `notAdmin`: a registered tenant's non-admin; `unregistered`: nobody has proven the domain yet. */
export type Authority = 'admin' | 'notAdmin' | 'unregistered';

/** What every variant of the invitation page shows. */
export type InvitationView = AuthorizationView & { recipientEmail: string; tenantDomain: string; suggestedName: string };

export function invitationLinks(db: Database, tenants: Pick<TenantDirectory, 'standingOf'>) {
  /** The invitation behind `token`, or why the link no longer works. */
  async function open(token: string) {
    // Opened on every page of the answer: the invitation and its relationship in one read.
    const found = await db.invitation.findUnique({ where: { tokenHash: hashToken(token) }, include: { relationship: { include: { partner: true, subscription: true } } } });
    if (!found) return { problem: 'unknown' as const };
    const { relationship: rel, ...invitation } = found;
    // A forwarded link answers the invitation it was forwarded from, and lives no longer than it.
    const answered = invitation.forwardedFromId ? await db.invitation.findUnique({ where: { id: invitation.forwardedFromId } }) : invitation;
    if (!answered) return { problem: 'unknown' as const };
    const revokedAt = invitation.revokedAt ?? answered.revokedAt;
    const usedAt = invitation.usedAt ?? answered.usedAt;
    if (revokedAt && rel.status === 'invited') return { problem: 'superseded' as const };
    if (rel.status === 'invitationExpired' || answered.expiresAt.getTime() <= Date.now()) return { problem: 'expired' as const };
    if (usedAt || revokedAt || rel.status !== 'invited') return { problem: 'used' as const };
    const { tenant, isAdmin } = await tenants.standingOf(rel.tenantDomain, invitation.recipientEmail);
    const authority: Authority = !tenant ? 'unregistered' : isAdmin ? 'admin' : 'notAdmin';
    return { problem: null, invitation, answeredId: answered.id, rel, tenant, authority } as const;
  }

  return { open };
}

export type InvitationLinks = ReturnType<typeof invitationLinks>;
export type OpenedInvitation = Extract<Awaited<ReturnType<InvitationLinks['open']>>, { problem: null }>;
export type { LinkProblem };

/** Built only where a page needs it: the stored offer is read (and checked) then, not on every open. */
export function invitationView(token: string, { rel, invitation, tenant }: OpenedInvitation): InvitationView {
  const policy = storedPolicy(rel.policy);
  return {
    token,
    partnerName: rel.partner.name,
    partnerContactEmail: rel.partner.contactEmail,
    customerName: tenant?.name ?? rel.tenantDomain,
    roles: rel.roles,
    terms: rel.terms,
    durationMs: policy.durationMs ?? null,
    autoExtend: rel.autoExtend,
    trial: storedTrialOffer(rel.trialOffer),
    purchase: storedPurchaseOffer(rel.subscription),
    expiresAt: invitation.expiresAt,
    recipientEmail: invitation.recipientEmail,
    tenantDomain: rel.tenantDomain,
    suggestedName: rel.contactName ?? rel.tenantDomain,
  };
}
