import type { EmailData, EmailTemplateName } from '../src/mail/templateData.js';

// One realistic example per email. The preview script renders them, the tests
// build on them, and compileEmailTemplates renders each once at start-up so a
// template that names a missing field fails then rather than on a real send.

const partnerName = 'Northwind IT Services';
const customerName = 'Contoso Ltd';
const tenantDomain = 'contoso.example';
const relationshipId = '7f1c2a0e-3b4d-4c5e-9f60-718293a4b5c6';

const roles = [
  {
    name: 'Helpdesk administrator',
    description: 'Reset passwords and sign-in methods for users who are not administrators.',
  },
  {
    name: 'User administrator',
    description: 'Create and manage users and groups, and assign licences.',
  },
];

const trial = { offer: 'Business Premium', seats: 25, days: 30 };

// 25 × 12.35 is 308.75000000000006 as a float: the emails must say EUR 308.75.
const purchase = { product: 'Business Premium', seats: 25, term: 'P1Y', pricePerSeat: { amount: '12.35', currency: 'EUR' }, autoRenew: true } as const;

export const emailSamples: { readonly [N in EmailTemplateName]: EmailData<N> } = {
  invitation: {
    partnerName,
    partnerContactEmail: 'partners@northwind.example',
    customerName,
    tenantDomain,
    roles,
    terms:
      'We act only on tickets you open with us.\nEvery change is logged and reported to you monthly.\nYou can remove our access at any time.',
    durationSeconds: 730 * 86_400,
    autoExtend: true,
    trial,
    purchase: { product: 'Business Premium', seats: 25, term: 'P1Y', pricePerSeat: { amount: '264.00', currency: 'EUR' }, autoRenew: true },
    expiresAt: '2025-12-14T10:00:00Z',
    invitationUrl: 'https://partners.example.com/invitations/k7Qm2vXr9TnP4sLd8wYb3cFh6JzA1eGu',
    forwardedBy: 'm.jones@contoso.example',
  },
  reminder: {
    partnerName,
    customerName,
    tenantDomain,
    expiresAt: '2025-12-14T10:00:00Z',
    invitationUrl: 'https://partners.example.com/invitations/k7Qm2vXr9TnP4sLd8wYb3cFh6JzA1eGu',
  },
  accepted: {
    partnerName,
    customerName,
    tenantDomain,
    relationshipId,
    roles,
    acceptedAt: '2025-12-02T09:30:00Z',
    endsAt: '2027-12-02T09:30:00Z',
    trial,
  },
  declined: {
    partnerName,
    customerName,
    tenantDomain,
    relationshipId,
    declinedAt: '2025-12-02T09:30:00Z',
    reason: 'We already work with another provider for user administration.',
  },
  invitationExpired: {
    partnerName,
    customerName,
    tenantDomain,
    relationshipId,
    expiredAt: '2025-12-14T10:00:00Z',
  },
  trialReady: {
    partnerName,
    customerName,
    tenantDomain,
    trial,
    trialEndsAt: '2026-01-01T09:31:00Z',
  },
  trialFailed: {
    partnerName,
    customerName,
    tenantDomain,
    relationshipId,
    trial,
    reason: 'The subscription service refused the order: no Business Premium seats are left in this region.',
  },
  subscriptionDeclined: {
    partnerName,
    customerName,
    tenantDomain,
    relationshipId,
    purchase,
    declinedAt: '2025-12-02T09:30:00Z',
  },
  subscriptionActive: {
    partnerName,
    customerName,
    tenantDomain,
    relationshipId,
    purchase,
    externalRef: 'NW-SUB-2025-004711',
    activatedAt: '2025-12-02T09:42:00Z',
  },
  subscriptionFailed: {
    recipient: 'customer',
    partnerName,
    customerName,
    tenantDomain,
    relationshipId,
    purchase,
    reason: 'Our billing system refused the order: the customer has no billing account with us yet.',
    failedAt: '2025-12-05T09:42:00Z',
  },
  removed: {
    recipient: 'customer',
    partnerName,
    customerName,
    tenantDomain,
    relationshipId,
    roles,
    removedAt: '2026-03-10T16:45:00Z',
  },
  terminated: {
    recipient: 'customer',
    partnerName,
    customerName,
    tenantDomain,
    relationshipId,
    roles,
    terminatedAt: '2026-03-10T16:45:00Z',
    reason: 'Our support contract with you ended on 1 March.',
  },
  expired: {
    recipient: 'partner',
    partnerName,
    customerName,
    tenantDomain,
    relationshipId,
    roles,
    endedAt: '2027-12-02T09:30:00Z',
  },
  endingSoon: {
    recipient: 'partner',
    partnerName,
    customerName,
    tenantDomain,
    relationshipId,
    daysLeft: 7,
    endsAt: '2027-12-02T09:30:00Z',
  },
  renewed: {
    recipient: 'customer',
    partnerName,
    customerName,
    tenantDomain,
    relationshipId,
    durationSeconds: 365 * 86_400,
    endsAt: '2028-12-01T09:30:00Z',
  },
  signIn: {
    customerName,
    tenantDomain,
    signInUrl: 'https://partners.example.com/sign-in/Zx8Vb2Nq5Rt7Yw1Ku4Hp9Lm3Dc6Fg0Sa',
    expiresAt: '2025-12-02T09:45:00Z',
  },
  domainVerification: {
    customerName,
    tenantDomain,
    verifyUrl: 'https://partners.example.com/tenants/verify/Hq3Wn8Ld2Xc5Vb9Tr1Ym6Kp4Js7Gf0Ae',
    expiresAt: '2025-12-03T09:30:00Z',
  },
  adminInvitation: {
    customerName,
    tenantDomain,
    invitedBy: 'it-admin@contoso.example',
    confirmUrl: 'https://partners.example.com/admins/confirm/Pm5Rt8Wq2Zn7Xc4Lv1Hb9Kd3Fg6Ys0Je',
    expiresAt: '2025-12-09T09:30:00Z',
  },
  partnerPaused: {
    partnerName,
    partnerId: '3e9b5d21-6c4f-4a8e-b7d0-2f1a9c8e4b63',
    pausedAt: '2026-03-10T16:45:00Z',
    reason: 'A leaked API key of yours was used from an unknown network; we paused your access while you rotate your keys.',
  },
  partnerResumed: {
    partnerName,
    partnerId: '3e9b5d21-6c4f-4a8e-b7d0-2f1a9c8e4b63',
    resumedAt: '2026-03-11T09:15:00Z',
    reason: 'Your keys were rotated and the old key revoked.',
  },
  deliveryFailed: {
    partnerName,
    customerName,
    tenantDomain,
    relationshipId,
    adminEmail: 'it-admin@contoso.example',
    reason: '550 5.1.1 <it-admin@contoso.example>: Recipient address rejected: User unknown',
  },
};
