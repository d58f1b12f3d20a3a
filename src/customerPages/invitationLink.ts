import type { Database } from '../infra/database.js';
import { hashToken } from '../infra/tokens.js';
import { storedPolicy, storedPurchaseOffer, storedTrialOffer, type PurchaseOfferColumns } from '../relationships/storedOffer.js';
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

/** One row of the link's read: the invitation, the one it answers, its relationship, partner, purchase and tenant standing. */
interface LinkRow {
  id: string;
  recipient_email: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  answered_id: string | null;
  answered_expires_at: Date | null;
  answered_used_at: Date | null;
  answered_revoked_at: Date | null;
  relationship_id: string;
  workflow_id: string;
  partner_id: string;
  status: string;
  tenant_domain: string;
  roles: string[];
  terms: string | null;
  policy: unknown;
  auto_extend: boolean;
  trial_offer: unknown;
  contact_name: string | null;
  partner_name: string;
  partner_contact_email: string;
  partner_paused_at: Date | null;
  /** Null without a purchase offered (then so are its other columns). */
  purchase_product: string | null;
  purchase_seats: number | null;
  purchase_term: string | null;
  purchase_price_amount: string | null;
  purchase_currency: string | null;
  purchase_auto_renew: boolean | null;
  /** Null: nobody has registered the tenant. */
  tenant_name: string | null;
  is_admin: boolean;
}

function purchaseColumns(row: LinkRow): PurchaseOfferColumns | null {
  const { purchase_product: product, purchase_seats: seats, purchase_term: term, purchase_price_amount: priceAmount, purchase_currency: currency, purchase_auto_renew: autoRenew } = row;
  if (product === null || seats === null || term === null || priceAmount === null || currency === null || autoRenew === null) return null;
  return { product, seats, term, priceAmount, currency, autoRenew };
}

export function invitationLinks(db: Database) {
  /** The invitation behind `token`, or why the link no longer works. */
  async function open(token: string) {
    // Opened on every page of the answer, so in one read: the invitation, the one a forwarded link
    // answers, the relationship, its partner and purchase, and whether the recipient is an admin of
    // the tenant now (the tenant is not a relation of the relationship: it need not be registered).
    const [row] = await db.$queryRaw<LinkRow[]>`
      SELECT i.id, i.recipient_email, i.expires_at, i.used_at, i.revoked_at,
             a.id AS answered_id, a.expires_at AS answered_expires_at, a.used_at AS answered_used_at, a.revoked_at AS answered_revoked_at,
             r.id AS relationship_id, r.workflow_id, r.partner_id, r.status, r.tenant_domain, r.roles, r.terms, r.policy, r.auto_extend,
             r.trial_offer, r.contact_name,
             p.name AS partner_name, p.contact_email AS partner_contact_email, p.paused_at AS partner_paused_at,
             s.product AS purchase_product, s.seats AS purchase_seats, s.term AS purchase_term, s.price_amount AS purchase_price_amount,
             s.currency AS purchase_currency, s.auto_renew AS purchase_auto_renew,
             t.name AS tenant_name,
             EXISTS (SELECT 1 FROM tenant_admins ta WHERE ta.tenant_domain = t.domain AND ta.email = lower(i.recipient_email)) AS is_admin
      FROM invitations i
      JOIN relationships r ON r.id = i.relationship_id
      JOIN partners p ON p.id = r.partner_id
      LEFT JOIN invitations a ON a.id = COALESCE(i.forwarded_from_id, i.id)
      LEFT JOIN subscriptions s ON s.relationship_id = r.id
      LEFT JOIN tenants t ON t.domain = r.tenant_domain
      WHERE i.token_hash = ${hashToken(token)}`;
    // A forwarded link answers the invitation it was forwarded from, and lives no longer than it.
    if (!row?.answered_id || !row.answered_expires_at) return { problem: 'unknown' as const };
    const revokedAt = row.revoked_at ?? row.answered_revoked_at;
    const usedAt = row.used_at ?? row.answered_used_at;
    if (revokedAt && row.status === 'invited') return { problem: 'superseded' as const };
    if (row.status === 'invitationExpired' || row.answered_expires_at.getTime() <= Date.now()) return { problem: 'expired' as const };
    if (usedAt || revokedAt || row.status !== 'invited') return { problem: 'used' as const };
    const tenant = row.tenant_name === null ? null : { domain: row.tenant_domain, name: row.tenant_name };
    const authority: Authority = !tenant ? 'unregistered' : row.is_admin ? 'admin' : 'notAdmin';
    const invitation = { id: row.id, recipientEmail: row.recipient_email, expiresAt: row.expires_at };
    const rel = {
      id: row.relationship_id,
      workflowId: row.workflow_id,
      partnerId: row.partner_id,
      tenantDomain: row.tenant_domain,
      roles: row.roles,
      terms: row.terms,
      policy: row.policy,
      autoExtend: row.auto_extend,
      trialOffer: row.trial_offer,
      contactName: row.contact_name,
      partner: { name: row.partner_name, contactEmail: row.partner_contact_email, pausedAt: row.partner_paused_at },
      purchase: purchaseColumns(row),
    };
    return { problem: null, invitation, answeredId: row.answered_id, rel, tenant, authority } as const;
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
    purchase: storedPurchaseOffer(rel.purchase),
    expiresAt: invitation.expiresAt,
    recipientEmail: invitation.recipientEmail,
    tenantDomain: rel.tenantDomain,
    suggestedName: rel.contactName ?? rel.tenantDomain,
  };
}
