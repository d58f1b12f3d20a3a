import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { problemSchema } from '../../src/apiDocs/responseSchemas.js';
import { createPartnerSchema } from '../../src/operator/operatorSchemas.js';
import { createRelationshipSchemaFor, reasonBodySchema } from '../../src/relationships/relationshipSchemas.js';
import { DAY, HOUR } from '../../src/contract/policy.js';
import { emailRegistry } from '../../src/mail/templateData.js';
import { parseDuration } from '../../src/validation/duration.js';
import { useTestApp } from '../support/useTestApp.js';
import { expectShape, field, uniqueDomain } from './apiHarness.js';
import { auth, createPartner } from './customerFlow.js';

// Issue 10, items 2 and 6 at the edge: every duration and count a partner sets has a
// range, refused with a 400 naming the field and the range; short durations only
// when the operator allows them; one schema per name, domain, email, URL and terms,
// with control and bidi characters refused, and the email data accepting whatever
// the API accepted.

const offer = (extra: Record<string, unknown> = {}) => {
  const tenantDomain = uniqueDomain('bounds');
  return { customer: { tenantDomain, adminEmail: `admin@${tenantDomain}` }, roles: ['reports-reader'], ...extra };
};

function expectFieldError(res: request.Response, path: string, message: string | RegExp) {
  expect(res.status, res.text).toBe(400);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(expectShape(problemSchema, res.body).type).toBe('/problems/validation');
  const errors = field(res, 'errors') as { path: string; message: string }[];
  const matching: unknown = typeof message === 'string' ? message : expect.stringMatching(message);
  expect(errors).toContainEqual({ path, message: matching });
}

describe('offer ranges with production minimums (ALLOW_SHORT_DURATIONS off)', () => {
  const { app, api } = useTestApp({ env: { ALLOW_SHORT_DURATIONS: 'false', RESEND_COOLDOWN_SECONDS: '600' } });
  let key: string;

  beforeAll(async () => {
    ({ key } = await createPartner(api, app.operatorToken, 'Bounds partner', 'ops@bounds.example'));
  });

  const post = (body: unknown) => api.post('/api/v1/relationships').set(auth(key)).send(body as object);

  it.each([
    ['duration', { duration: '8s' }, 'must be between 1 day and 2 years'],
    ['duration', { duration: '300000y' }, 'must be between 1 day and 2 years'],
    ['duration', { duration: 'P731D' }, 'must be between 1 day and 2 years'],
    ['invitationTtl', { invitationTtl: '30s' }, 'must be between 1 hour and 90 days'],
    ['invitationTtl', { invitationTtl: 'P91D' }, 'must be between 1 hour and 90 days'],
    ['policy.autoExtendBy', { policy: { autoExtendBy: '300000y' } }, 'must be between 1 day and 2 years'],
    ['policy.reminderBeforeExpiry', { policy: { reminderBeforeExpiry: '5s' } }, 'must be between 1 minute and 90 days'],
    ['policy.reminderBeforeExpiry', { invitationTtl: '2h', policy: { reminderBeforeExpiry: '3h' } }, 'must be shorter than the invitation TTL (2 hours)'],
    ['policy.warningsBeforeEnd.0', { duration: '10d', policy: { warningsBeforeEnd: ['30d'] } }, 'must be shorter than the duration (10 days)'],
    ['policy.warningsBeforeEnd', { policy: { warningsBeforeEnd: ['6d', '5d', '4d', '3d', '2d', '1d'] } }, 'must list at most 5 warnings'],
    ['policy.trialProvisioningAttempts', { policy: { trialProvisioningAttempts: 21 } }, 'must be between 1 and 20'],
    ['trial.seats', { trial: { offer: 'Trial', seats: 100_001, days: 30 } }, 'must be between 1 and 100000'],
    ['trial.days', { trial: { offer: 'Trial', seats: 5, days: 366 } }, 'must be between 1 and 365'],
    ['duration', { duration: 'P1Y' }, /years or months/],
    ['duration', { duration: '-P1D' }, 'must not be negative'],
  ])('%s out of range is a 400 naming it and its range (%j)', async (path, extra, message) => {
    expectFieldError(await post(offer(extra)), path, message);
  });

  it('accepts ISO 8601 durations at the edges of their ranges, and they mean what they say', async () => {
    const before = Date.now();
    const res = await post(offer({ duration: 'P730D', invitationTtl: 'PT1H', policy: { autoExtendBy: 'P1D', reminderBeforeExpiry: 'PT30M', warningsBeforeEnd: ['P2W', 'PT1H'] } }));
    expect(res.status, res.text).toBe(201);
    const expiresAt = Date.parse(String(field(res, 'invitationExpiresAt')));
    expect(expiresAt).toBeGreaterThanOrEqual(before + HOUR);
    expect(expiresAt).toBeLessThan(Date.now() + HOUR + 1000);
    const row = await app.db.relationship.findUniqueOrThrow({ where: { id: String(field(res, 'id')) } });
    expect(row.policy).toMatchObject({ durationMs: 730 * DAY, autoExtendByMs: DAY, reminderBeforeExpiryMs: 30 * 60_000, warningsBeforeEndMs: [14 * DAY, HOUR] });
  });
});

describe('names, terms and URLs: one schema each, control and bidi characters refused', () => {
  const { app, api } = useTestApp();
  let key: string;

  beforeAll(async () => {
    ({ key } = await createPartner(api, app.operatorToken, 'Names partner', 'ops@names.example'));
  });

  const hostile = [
    ['a newline', 'Contoso\nBcc: x@evil.example', /single line/],
    ['a bidi override', 'Contoso \u202Egpj.exe', /bidi/],
    ['a bidi isolate', 'Contoso \u2066x\u2069', /bidi/],
    ['a left-to-right mark', 'Contoso\u200E', /bidi/],
    ['a tab', 'Contoso\tLtd', /control characters/],
  ] as const;

  it.each(hostile)('a partner name with %s is a 400', async (_label, name, message) => {
    const res = await api.post('/api/v1/admin/partners').set(auth(app.operatorToken)).send({ name, contactEmail: 'ops@names.example' });
    expectFieldError(res, 'name', message);
  });

  it.each(hostile)('an offer whose customer name has %s is a 400', async (_label, name, message) => {
    const body = offer();
    const res = await api.post('/api/v1/relationships').set(auth(key)).send({ ...body, customer: { ...body.customer, name } });
    expectFieldError(res, 'customer.name', message);
  });

  it.each(hostile)('a trial offer named with %s is a 400', async (_label, name, message) => {
    const res = await api.post('/api/v1/relationships').set(auth(key)).send(offer({ trial: { offer: name, seats: 5, days: 30 } }));
    expectFieldError(res, 'trial.offer', message);
  });

  it('terms may break lines but hold no other control or bidi characters', async () => {
    expectFieldError(await api.post('/api/v1/relationships').set(auth(key)).send(offer({ terms: 'Pay\tnow' })), 'terms', /control characters/);
    expectFieldError(await api.post('/api/v1/relationships').set(auth(key)).send(offer({ terms: 'Pay \u202Enow' })), 'terms', /bidi/);
    const ok = await api.post('/api/v1/relationships').set(auth(key)).send(offer({ terms: 'Line one\r\nLine two' }));
    expect(ok.status, ok.text).toBe(201);
    expect(field(ok, 'terms')).toBe('Line one\nLine two');
  });

  it('a domain with a path or query is refused, not cut down to its host', async () => {
    const res = await api.post('/api/v1/relationships').set(auth(key)).send({ ...offer(), customer: { tenantDomain: 'contoso.example/<b>', adminEmail: 'a@contoso.example' } });
    expectFieldError(res, 'customer.tenantDomain', 'must be a domain name like contoso.com');
  });

  it.each(hostile)('the organisation-name form field with %s is a 400 page saying why', async (_label, name) => {
    const res = await request(app.app).post('/tenants/new').type('form').send({ tenantDomain: uniqueDomain('form'), name, email: 'someone@example.com' });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toMatch(/Organisation name must (be a single line|not contain)/);
  });
});

describe('the email data accepts everything the API accepts', () => {
  // Characters that once got past one schema but not the other, mixed with ordinary text.
  const risky = fc.constantFrom('\n', '\r', '\r\n', '\t', '\u0000', '\u202E', '\u2066', '\u2069', '\u200E', '\u200F', '\u200C', '\u200D', '\u00AD', '\uFEFF', '\u2028', ' ', 'é', 'ß', '😀', 'ی');
  const text = fc.array(fc.oneof(risky, fc.string({ unit: 'binary', maxLength: 4 })), { maxLength: 12 }).map((parts) => parts.join(''));
  const parse = createRelationshipSchemaFor({ allowShortDurations: true });
  const base = { customer: { tenantDomain: 'contoso.example', adminEmail: 'a@contoso.example' }, roles: ['reports-reader'] };
  const invitationSample = {
    partnerName: 'Partner',
    customerName: 'Customer',
    tenantDomain: 'contoso.example',
    partnerContactEmail: 'ops@partner.example',
    roles: [{ name: 'Reports reader', description: 'Reads reports.' }],
    expiresAt: new Date(),
    invitationUrl: 'https://partners.example/invitations/abc',
  };

  it('names, trial offers and terms the offer schema accepts fill the invitation email', () => {
    fc.assert(
      fc.property(text, text, text, (name, trialName, terms) => {
        const parsed = parse.safeParse({ ...base, customer: { ...base.customer, name }, trial: { offer: trialName, seats: 1, days: 1 }, terms });
        if (!parsed.success) return;
        const data = { ...invitationSample, customerName: parsed.data.customer.name, trial: parsed.data.trial, terms: parsed.data.terms };
        expect(emailRegistry.invitation.schema.safeParse(data).error).toBeUndefined();
      }),
      { seed: 1002, numRuns: 2000 },
    );
  });

  it('partner names the API accepts fill every email that names the partner', () => {
    fc.assert(
      fc.property(text, (name) => {
        const parsed = createPartnerSchema.safeParse({ name, contactEmail: 'Ops@Partner.example' });
        if (!parsed.success) return;
        expect(emailRegistry.invitation.schema.safeParse({ ...invitationSample, partnerName: parsed.data.name, partnerContactEmail: parsed.data.contactEmail }).error).toBeUndefined();
      }),
      { seed: 1006, numRuns: 2000 },
    );
  });

  it('a reason from a person (API) or from another system (a provider error) never makes an email fail', () => {
    const terminated = { partnerName: 'P', customerName: 'C', tenantDomain: 'contoso.example', relationshipId: randomUUID(), recipient: 'partner', roles: [{ name: 'R', description: 'D' }], terminatedAt: new Date() };
    fc.assert(
      fc.property(text, fc.string({ unit: 'binary', maxLength: 6000 }), (reason, systemText) => {
        const parsed = reasonBodySchema.safeParse({ reason });
        if (parsed.success && parsed.data.reason) {
          const out = emailRegistry.terminated.schema.parse({ ...terminated, reason: parsed.data.reason });
          expect(out.reason).toBe(parsed.data.reason);
        }
        expect(emailRegistry.terminated.schema.safeParse({ ...terminated, reason: systemText }).error).toBeUndefined();
      }),
      { seed: 1003, numRuns: 1000 },
    );
  });

  it('parses ISO 8601 and short durations to the same milliseconds', () => {
    expect(parseDuration('P730D')).toBe(parseDuration('730d'));
    expect(parseDuration('PT4S')).toBe(4000);
    expect(parseDuration('P2W')).toBe(14 * DAY);
    expect(parseDuration('PT1H30M')).toBe(90 * 60_000);
    expect(parseDuration('P1M')).toMatch(/years or months/);
    expect(parseDuration('P')).toMatch(/must be a duration like/);
    expect(parseDuration('PT0.5S')).toBe('must be at least 1 second');
  });
});
