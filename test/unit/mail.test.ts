import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { emailSamples } from '../../emails/emailSamples.js';
import { customerRequested, isLinkTemplate, isToPartner, linkFields, type MailJob } from '../../src/mail/mailJob.js';
import { admitMail, TOP_PRIORITY } from '../../src/mail/mailAdmission.js';
import { emailRegistry, emailTemplateNames, isEmailTemplateName, type EmailTemplateName } from '../../src/mail/templateData.js';

// What each email needs (templateData), how mail jobs are classified (mailJob),
// and the priority arithmetic of admitMail with a stand-in for its one Redis
// call (the Lua script itself needs a Redis: test/mailFairness.test.ts).

describe('email data schemas', () => {
  it.each(emailTemplateNames)('%s: its sample is valid data', (name) => {
    expect(emailRegistry[name].schema.safeParse(emailSamples[name]).error).toBeUndefined();
  });

  it('isEmailTemplateName knows the registry and nothing inherited', () => {
    for (const name of emailTemplateNames) expect(isEmailTemplateName(name)).toBe(true);
    for (const name of ['welcome', 'toString', 'constructor', '__proto__', 'hasOwnProperty', '']) expect(isEmailTemplateName(name), name).toBe(false);
  });

  it('dates arrive as Date or ISO-8601 strings and come out as Dates', () => {
    const schema = emailRegistry.invitationExpired.schema;
    const base = emailSamples.invitationExpired;
    expect(schema.parse({ ...base, expiredAt: '2025-12-14T10:00:00Z' }).expiredAt).toEqual(new Date('2025-12-14T10:00:00Z'));
    expect(schema.parse({ ...base, expiredAt: '2025-12-14T11:00:00+01:00' }).expiredAt).toEqual(new Date('2025-12-14T10:00:00Z'));
    const date = new Date('2026-01-01T00:00:00Z');
    expect(schema.parse({ ...base, expiredAt: date }).expiredAt).toEqual(date);
    for (const bad of ['2025-12-14', 'next tuesday', 1765706400000, null]) expect(schema.safeParse({ ...base, expiredAt: bad }).success, String(bad)).toBe(false);
  });

  it('a reason from another system is cleaned, never refused; an empty one is no reason', () => {
    const schema = emailRegistry.trialFailed.schema;
    const base = emailSamples.trialFailed;
    expect(schema.parse({ ...base, reason: 'HTTP 503\tService\u0000Unavailable\r\n\u202Eretry' }).reason).toBe('HTTP 503 Service Unavailable\n retry');
    expect(schema.parse({ ...base, reason: '  \t ' }).reason).toBeNull();
    expect(schema.parse({ ...base, reason: null }).reason).toBeNull();
    const { reason: _omitted, ...withoutReason } = base;
    expect(schema.parse(withoutReason).reason).toBeNull();
    expect(schema.parse({ ...base, reason: 'x'.repeat(9000) }).reason).toHaveLength(5000);
  });

  it('messages to both sides need to know which side they go to', () => {
    const two = emailTemplateNames.filter((name) => 'recipient' in emailRegistry[name].schema.shape);
    expect(two.sort()).toEqual(['endingSoon', 'expired', 'removed', 'renewed', 'subscriptionFailed', 'terminated']);
    for (const name of two) {
      const schema = emailRegistry[name].schema;
      expect(schema.safeParse({ ...emailSamples[name], recipient: 'operator' }).success, name).toBe(false);
      expect(schema.safeParse({ ...emailSamples[name], recipient: 'partner' }).success, name).toBe(true);
    }
  });

  it('subjects name only fields their schema has', () => {
    for (const name of emailTemplateNames) {
      const { subject, schema } = emailRegistry[name];
      for (const [, expression] of subject.matchAll(/\{\{([^}]*)\}\}/g)) {
        const field = (expression ?? '').trim().split(/\s+/).find((word) => /^[a-zA-Z]/.test(word) && !['date', 'dateTime', 'plural', 'duration', 'eq'].includes(word));
        const root = (field ?? '').split('.')[0] ?? '';
        expect(Object.keys(schema.shape), `${name}: {{${expression}}}`).toContain(root);
      }
    }
  });
});

describe('mail jobs', () => {
  it('every link email exists, and its link field is an http(s) URL field of its schema', () => {
    for (const [name, field] of Object.entries(linkFields)) {
      expect(isEmailTemplateName(name)).toBe(true);
      const template = name as keyof typeof linkFields;
      expect(isLinkTemplate(template)).toBe(true);
      expect(Object.keys(emailRegistry[template].schema.shape)).toContain(field);
      expect((emailSamples[template] as Record<string, unknown>)[field]).toMatch(/^https:\/\//);
    }
    expect(isLinkTemplate('accepted')).toBe(false);
    expect(isLinkTemplate('toString' as EmailTemplateName)).toBe(false);
  });

  it('the emails a customer asked for are link emails (they wait at the screen for them)', () => {
    expect([...customerRequested].sort()).toEqual(['adminInvitation', 'domainVerification', 'signIn']);
    for (const name of customerRequested) expect(isLinkTemplate(name)).toBe(true);
  });

  it('isToPartner: the partner-only news, and two-sided messages addressed to the partner', () => {
    const job = (template: EmailTemplateName, data: object = {}) => ({ template, data }) as Pick<MailJob, 'template' | 'data'>;
    for (const name of ['accepted', 'declined', 'invitationExpired', 'trialFailed', 'deliveryFailed'] as const) expect(isToPartner(job(name)), name).toBe(true);
    expect(isToPartner(job('removed', { recipient: 'partner' }))).toBe(true);
    expect(isToPartner(job('removed', { recipient: 'customer' }))).toBe(false);
    for (const name of ['invitation', 'reminder', 'signIn', 'trialReady', 'renewed'] as const) expect(isToPartner(job(name, emailSamples[name])), name).toBe(false);
  });
});

describe('admitMail', () => {
  /** A Redis whose only use here, `eval`, answers [this minute's count, last minute's count, admitted by the recipient quota]. */
  function fakeRedis(current: number, previous: number, admitted = 1) {
    const calls: unknown[][] = [];
    const redis = {
      eval: (...args: unknown[]) => {
        calls.push(args);
        return Promise.resolve([current, previous, admitted]);
      },
    } as unknown as Redis;
    return { redis, calls };
  }
  const mailPriority = async (redis: Redis, prefix: string, mail: MailJob, now: number) => (await admitMail(redis, prefix, mail, 20, now)).priority;
  const job = (template: EmailTemplateName, sender?: string) => ({ template, to: 'a@contoso.example', data: {}, ...(sender ? { sender } : {}) }) as unknown as MailJob;
  const minuteStart = 1_765_000_020_000; // a whole minute

  it('sends what a customer waits for first, without counting it', async () => {
    const { redis, calls } = fakeRedis(999, 999);
    for (const name of customerRequested) expect(await mailPriority(redis, 'pf', job(name, 'partner-1'), minuteStart)).toBe(TOP_PRIORITY);
    expect(calls).toHaveLength(0);
  });

  it('numbers other emails by how much their sender sent in about the last minute', async () => {
    const first = fakeRedis(1, 0);
    expect(await mailPriority(first.redis, 'pf', job('invitation', 'partner-a'), minuteStart)).toBe(2);
    expect(first.calls[0]?.slice(1, 4)).toEqual([3, `pf:mail-volume:partner-a:${minuteStart / 60_000}`, `pf:mail-volume:partner-a:${minuteStart / 60_000 - 1}`]);

    // Last minute's count weighs by the share of it still inside the window.
    expect(await mailPriority(fakeRedis(10, 100).redis, 'pf', job('invitation', 'a'), minuteStart)).toBe(1 + 10 + 100);
    expect(await mailPriority(fakeRedis(10, 100).redis, 'pf', job('invitation', 'a'), minuteStart + 15_000)).toBe(1 + 10 + 75);
    expect(await mailPriority(fakeRedis(10, 100).redis, 'pf', job('invitation', 'a'), minuteStart + 59_999)).toBe(1 + 10 + 0);
  });

  it('counts mail without a sender as the system’s, and caps a very busy sender', async () => {
    const system = fakeRedis(1, 0);
    await mailPriority(system.redis, 'pf', job('trialReady'), minuteStart);
    expect(String(system.calls[0]?.[2])).toMatch(/^pf:mail-volume:system:/);
    expect(await mailPriority(fakeRedis(5_000_000, 5_000_000).redis, 'pf', job('invitation', 'a'), minuteStart)).toBe(1_000_000);
  });

  it("counts the recipient's hour in the same round trip, only for email the quota holds back, and holds it to the next hour", async () => {
    const invitation = fakeRedis(1, 0, 0);
    const held = await admitMail(invitation.redis, 'pf', job('invitation', 'a'), 20, minuteStart);
    expect(invitation.calls).toHaveLength(1);
    expect(String(invitation.calls[0]?.[4])).toMatch(/^pf:mail-recipient:[0-9a-f]{32}:\d+$/);
    const nextHour = (Math.floor(minuteStart / 3_600_000) + 1) * 3_600_000;
    expect(held.heldUntil).toBeGreaterThanOrEqual(nextHour);
    expect(held.heldUntil).toBeLessThan(nextHour + 60_000);
    // News to the partner is never held: two keys, no recipient count.
    const toPartner = fakeRedis(1, 0);
    expect(await admitMail(toPartner.redis, 'pf', job('accepted', 'a'), 20, minuteStart)).toEqual({ priority: 2, heldUntil: null });
    expect(toPartner.calls[0]?.[1]).toBe(2);
  });
});
