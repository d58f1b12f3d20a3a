import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { invitationLinks, invitationView } from '../../src/customerPages/invitationLink.js';
import { hashToken } from '../../src/infra/tokens.js';
import { storedPurchaseOffer } from '../../src/relationships/storedOffer.js';
import { countingDatabase, listed } from '../support/countingDatabase.js';

// An invitation link is opened on every page of the answer (the page, then the
// Yes): issue 13 asks for few statements per onboarding, so the link, the
// relationship, its partner and purchase and the recipient's standing in the
// tenant are read in one statement of hand-written SQL. That read must say
// what the model API's reads said: who may answer, what the page shows, which
// invitation a forwarded link answers.

const { db, statementsOf, close } = countingDatabase();
const links = invitationLinks(db);
afterAll(close);

async function offer() {
  const partner = await db.partner.create({ data: { name: 'Link Partner', contactEmail: 'ops@link.example', webhookSecret: 'not-used' } });
  const id = randomUUID();
  const tenantDomain = `t-${id.slice(0, 8)}.link.example`;
  await db.relationship.create({
    data: {
      id,
      workflowId: `relationship-${id}`,
      partnerId: partner.id,
      tenantDomain,
      contactEmail: `admin@${tenantDomain}`,
      contactName: 'Contoso',
      status: 'invited',
      roles: ['user-administrator'],
      terms: 'Support hours only.',
      policy: { durationMs: 86_400_000 },
      trialOffer: { offer: 'office-trial', seats: 5, days: 30 },
      liveKey: id,
      subscription: { create: { product: 'Office', seats: 5, term: 'P1M', priceAmount: '12.50', currency: 'EUR', autoRenew: true, status: 'offered' } },
    },
  });
  return { id, tenantDomain, recipient: `admin@${tenantDomain}` };
}

async function link(relationshipId: string, recipientEmail: string, forwardedFromId?: string) {
  const token = `token-${randomUUID()}`;
  const row = await db.invitation.create({
    data: { relationshipId, idempotencyKey: `key-${token}`, tokenHash: hashToken(token), recipientEmail, expiresAt: new Date(Date.now() + 3_600_000), forwardedFromId: forwardedFromId ?? null },
  });
  return { token, row };
}

describe('opening an invitation link', () => {
  it('reads the link, its relationship and the recipient’s standing in one statement, as the model API reads them', async () => {
    const { id, tenantDomain, recipient } = await offer();
    const { token, row } = await link(id, recipient);

    const { result: unregistered, statements } = await statementsOf(() => links.open(token));
    expect(statements.length, listed(statements)).toBe(1);
    if (unregistered.problem) throw new Error(unregistered.problem);
    expect(unregistered.authority).toBe('unregistered');
    expect(unregistered.tenant).toBeNull();
    expect(unregistered.answeredId).toBe(row.id);

    const rel = await db.relationship.findUniqueOrThrow({ where: { id }, include: { partner: true, subscription: true } });
    const view = invitationView(token, unregistered);
    expect(view).toEqual({
      token,
      partnerName: rel.partner.name,
      partnerContactEmail: rel.partner.contactEmail,
      customerName: tenantDomain,
      roles: rel.roles,
      terms: rel.terms,
      durationMs: 86_400_000,
      autoExtend: false,
      trial: { offer: 'office-trial', seats: 5, days: 30 },
      purchase: storedPurchaseOffer(rel.subscription),
      expiresAt: row.expiresAt,
      recipientEmail: recipient,
      tenantDomain,
      suggestedName: 'Contoso',
    });
    expect(unregistered.rel.partner.pausedAt).toBeNull();

    await db.tenant.create({ data: { domain: tenantDomain, name: 'Contoso Ltd', registeredVia: 'operator', admins: { create: { email: `other@${tenantDomain}`, addedVia: 'operator' } } } });
    const notAdmin = await links.open(token);
    expect(notAdmin.problem === null && [notAdmin.authority, notAdmin.tenant]).toEqual(['notAdmin', { domain: tenantDomain, name: 'Contoso Ltd' }]);

    await db.tenantAdmin.create({ data: { tenantDomain, email: recipient, addedVia: 'operator' } });
    const admin = await links.open(token);
    expect(admin.problem === null && admin.authority).toBe('admin');
    expect(admin.problem === null && invitationView(token, admin).customerName).toBe('Contoso Ltd');
  });

  it('answers the invitation a forwarded link came from, and lives no longer than it', async () => {
    const { id, tenantDomain, recipient } = await offer();
    const original = await link(id, recipient);
    const forwarded = await link(id, `second@${tenantDomain}`, original.row.id);
    const opened = await links.open(forwarded.token);
    expect(opened.problem === null && opened.answeredId).toBe(original.row.id);

    await db.invitation.update({ where: { id: original.row.id }, data: { usedAt: new Date() } });
    expect((await links.open(forwarded.token)).problem).toBe('used');
    expect((await links.open(original.token)).problem).toBe('used');
  });

  it('tells an unknown token, an expired link and a superseded one apart', async () => {
    const { id, recipient } = await offer();
    expect((await links.open('no-such-token')).problem).toBe('unknown');
    const orphan = await link(id, recipient, randomUUID());
    expect((await links.open(orphan.token)).problem).toBe('unknown');

    const expired = await link(id, recipient);
    await db.invitation.update({ where: { id: expired.row.id }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    expect((await links.open(expired.token)).problem).toBe('expired');

    const superseded = await link(id, recipient);
    await db.invitation.update({ where: { id: superseded.row.id }, data: { revokedAt: new Date() } });
    expect((await links.open(superseded.token)).problem).toBe('superseded');
  });
});
