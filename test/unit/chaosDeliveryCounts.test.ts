import { describe, expect, it } from 'vitest';
import { countEmails, countWebhooks, type DrivenRelationship, type EmailArrival, type WebhookArrival } from '../chaos/deliveryCounts.js';
import { expectations } from '../chaos/scenarios.js';

// The chaos suite's verdict on emails and webhooks rests on these counts: each
// way a delivery can go wrong must show up in them, or the suite could not fail.

const customerEmail = 'admin@c1.chaos.example';
const partnerEmail = 'ops@p1.chaos.example';
const relationship = (scenario: DrivenRelationship['scenario'], renewals = 0): DrivenRelationship => ({
  id: `rel-${scenario}`,
  label: `1 ${scenario}`,
  scenario,
  customerEmail,
  partnerEmail,
  renewals,
});

/** Exactly what the scenario should cause, one SMTP message per expected email. */
function perfectEmails(r: DrivenRelationship): EmailArrival[] {
  return expectations[r.scenario].emails(r.renewals).flatMap((e) =>
    Array.from({ length: e.count }, (_, i) => ({
      messageId: `<${r.id}-${e.template}-${e.recipient}-${i}@partnerflow>`,
      to: [e.recipient === 'customer' ? customerEmail : partnerEmail],
      row: { relationshipId: r.id, template: e.template },
    })),
  );
}

const perfectWebhooks = (r: DrivenRelationship): WebhookArrival[] =>
  expectations[r.scenario].webhooks.map((type, seq) => ({ id: `${r.id}-transition-${seq + 1}`, type, relationshipId: r.id }));

describe('the chaos suite counts each email at the SMTP server', () => {
  const r = relationship('acceptExpires');

  it('finds nothing when every expected email arrived once', () => {
    const counts = countEmails([r], perfectEmails(r));
    expect(counts).toMatchObject({ lost: [], doubled: [], unexpected: [], stray: [] });
    expect(counts.expected).toBe(4);
  });

  it('counts a missing email as lost, even when no outbox row was ever written for it', () => {
    const arrivals = perfectEmails(r).filter((a) => a.row?.template !== 'expired' || !a.to.includes(customerEmail));
    expect(countEmails([r], arrivals).lost).toEqual([`1 acceptExpires ${r.id}: expired to the customer: 0 of 1`]);
  });

  it('lists the same message sent again (one Message-ID) as resent, apart from doubled', () => {
    const arrivals = perfectEmails(r);
    const again = arrivals.find((a) => a.row?.template === 'accepted');
    const counts = countEmails([r], again ? [...arrivals, again] : arrivals);
    expect(counts.resent).toEqual([`1 acceptExpires ${r.id}: accepted to the partner: 2 arrivals of 1 message(s) (${again?.messageId} ${again?.messageId})`]);
    expect(counts.doubled).toEqual([]);
  });

  it('counts a second message for the same thing (another Message-ID) as doubled', () => {
    const arrivals = perfectEmails(r);
    const second: EmailArrival = { messageId: '<other@partnerflow>', to: [partnerEmail], row: { relationshipId: r.id, template: 'expired' } };
    expect(countEmails([r], [...arrivals, second]).doubled).toEqual([
      `1 acceptExpires ${r.id}: expired to the partner: 2 of 1 (<${r.id}-expired-partner-0@partnerflow> <other@partnerflow>)`,
    ]);
  });

  it('counts an email the scenario never causes as unexpected, and one without an outbox row as stray', () => {
    const trialMail: EmailArrival = { messageId: '<t@partnerflow>', to: [customerEmail], row: { relationshipId: r.id, template: 'trialReady' } };
    const unknown: EmailArrival = { messageId: '<nobody@partnerflow>', to: [customerEmail] };
    const counts = countEmails([r], [...perfectEmails(r), trialMail, unknown]);
    expect(counts.unexpected).toEqual([`1 acceptExpires ${r.id}: trialReady to customer: 1 of 0`]);
    expect(counts.stray).toEqual(['<nobody@partnerflow> to admin@c1.chaos.example']);
  });

  it('expects one renewal email per party per renewal the audit log records', () => {
    const renewed = relationship('autoExtendExpires', 2);
    expect(countEmails([renewed], perfectEmails(renewed))).toMatchObject({ lost: [], doubled: [] });
    const oneShort = perfectEmails(renewed);
    oneShort.splice(oneShort.findIndex((a) => a.row?.template === 'renewed'), 1);
    expect(countEmails([renewed], oneShort).lost).toHaveLength(1);
    expect(countEmails([relationship('autoExtendExpires', 1)], perfectEmails(renewed)).doubled).toHaveLength(2);
  });
  it('lets an optional reminder be missing, never doubled', () => {
    const expiring = relationship('invitationExpires');
    const all = perfectEmails(expiring);
    const reminder = all.find((a) => a.row?.template === 'reminder');
    expect(countEmails([expiring], all.filter((a) => a !== reminder))).toMatchObject({ lost: [], doubled: [] });
    const secondReminder = reminder ? [{ ...reminder, messageId: '<reminder-2@partnerflow>' }] : [];
    expect(countEmails([expiring], [...all, ...secondReminder]).doubled).toHaveLength(1);
  });
});

describe('the chaos suite counts each webhook at the receiver', () => {
  const r = relationship('acceptTrialTerminated');

  it('finds nothing when each transition arrived, and counts a redelivery of the same id as allowed', () => {
    const arrivals = perfectWebhooks(r);
    const counts = countWebhooks([r], [...arrivals, arrivals[0] as WebhookArrival]);
    expect(counts).toMatchObject({ expected: 5, distinct: 5, redelivered: 1, lost: [], doubled: [], unexpected: [] });
  });

  it('counts a transition never received as lost', () => {
    const arrivals = perfectWebhooks(r).filter((a) => a.type !== 'relationship.provisioning');
    expect(countWebhooks([r], arrivals).lost).toEqual([`1 acceptTrialTerminated ${r.id}: relationship.provisioning never received`]);
  });

  it('counts one transition under two ids as doubled, and an event no scenario causes as unexpected', () => {
    const arrivals = perfectWebhooks(r);
    const counts = countWebhooks([r], [
      ...arrivals,
      { id: `${r.id}-transition-9`, type: 'relationship.terminated', relationshipId: r.id },
      { id: `${r.id}-transition-10`, type: 'relationship.expired', relationshipId: r.id },
    ]);
    expect(counts.doubled).toHaveLength(1);
    expect(counts.unexpected).toHaveLength(1);
  });
});
