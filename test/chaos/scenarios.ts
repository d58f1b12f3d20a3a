// The paths the chaos driver takes a relationship through, and what each must
// leave behind when it is done: the end status, every email (by template and
// recipient, with how many) and every webhook (one per transition, by event).
// Pure data, so test/unit/chaosDeliveryCounts.test.ts can check the counting
// against it without any service.

export const scenarios = [
  'acceptExpires',
  'acceptTrialTerminated',
  'acceptRemoved',
  'declined',
  'invitationExpires',
  'resendAcceptExpires',
  'withdrawn',
  'autoExtendExpires',
] as const;
export type Scenario = (typeof scenarios)[number];

export type Recipient = 'customer' | 'partner';

export interface ExpectedEmail {
  template: string;
  recipient: Recipient;
  count: number;
  /** May be skipped (never sent more than `count` times): the workflow drops a reminder whose time passed while it could not run. */
  optional?: true;
}

export interface ScenarioExpectation {
  status: string;
  /** Every email the relationship causes; `renewals` is how many renewals it went through (the audit log says). */
  emails(renewals: number): ExpectedEmail[];
  /** The webhook events, one delivery each, in transition order. */
  webhooks: string[];
}

const once = (template: string, recipient: Recipient): ExpectedEmail => ({ template, recipient, count: 1 });
const invited = once('invitation', 'customer');
const accepted = once('accepted', 'partner');
const toBoth = (template: string): ExpectedEmail[] => [once(template, 'partner'), once(template, 'customer')];

export const expectations: Record<Scenario, ScenarioExpectation> = {
  acceptExpires: {
    status: 'expired',
    emails: () => [invited, accepted, ...toBoth('expired')],
    webhooks: ['relationship.invited', 'relationship.accepted', 'relationship.active', 'relationship.expired'],
  },
  acceptTrialTerminated: {
    status: 'terminated',
    emails: () => [invited, accepted, once('trialReady', 'customer'), ...toBoth('terminated')],
    webhooks: ['relationship.invited', 'relationship.accepted', 'relationship.provisioning', 'relationship.active', 'relationship.terminated'],
  },
  acceptRemoved: {
    status: 'terminated',
    emails: () => [invited, accepted, ...toBoth('removed')],
    webhooks: ['relationship.invited', 'relationship.accepted', 'relationship.active', 'relationship.terminated'],
  },
  declined: {
    status: 'declined',
    emails: () => [invited, once('declined', 'partner')],
    webhooks: ['relationship.invited', 'relationship.declined'],
  },
  invitationExpires: {
    status: 'invitationExpired',
    // The offer asks for one reminder 20 s before the invitation expires. A reminder whose time has
    // passed when the workflow first waits (its start held up by an outage) is skipped by design
    // (awaitInvitationAnswer: remindAt > now), so it may be missing, never doubled.
    emails: () => [invited, { ...once('reminder', 'customer'), optional: true }, once('invitationExpired', 'partner')],
    webhooks: ['relationship.invited', 'relationship.invitationExpired'],
  },
  resendAcceptExpires: {
    status: 'expired',
    // A resend is a second invitation email, not a transition.
    emails: () => [{ template: 'invitation', recipient: 'customer', count: 2 }, accepted, ...toBoth('expired')],
    webhooks: ['relationship.invited', 'relationship.accepted', 'relationship.active', 'relationship.expired'],
  },
  withdrawn: {
    status: 'withdrawn',
    // A withdrawal ends the invitation silently: no email.
    emails: () => [invited],
    webhooks: ['relationship.invited', 'relationship.withdrawn'],
  },
  autoExtendExpires: {
    status: 'expired',
    // Renewals go on until the driver switches auto-extend off, so how many depends on timing (and faults).
    emails: (renewals) => [
      invited,
      accepted,
      { template: 'renewed', recipient: 'partner', count: renewals },
      { template: 'renewed', recipient: 'customer', count: renewals },
      ...toBoth('expired'),
    ],
    webhooks: ['relationship.invited', 'relationship.accepted', 'relationship.active', 'relationship.expired'],
  },
};
