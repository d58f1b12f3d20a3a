import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { DAY, HOUR, SECOND } from '../../src/contract/policy.js';
import {
  adminEmailFormSchema,
  csrfFormSchema,
  invitationAnswerFormSchema,
  newTenantFormSchema,
  partnerListQuerySchema,
  signInFormSchema,
  verifyDomainFormSchema,
} from '../../src/customerPages/formSchemas.js';
import { accessBatchSchema, accessQuerySchema, MAX_BATCH_CHECKS } from '../../src/access/accessQuestions.js';
import { createPartnerSchema, putTenantSchema, tenantDomainParamSchema } from '../../src/operator/operatorSchemas.js';
import { keyRefSchema, rotateKeySchema } from '../../src/operator/partnerKeySchemas.js';
import { createEnforcerSchema, enforcerKeyRefSchema, MAX_ENFORCER_TENANTS } from '../../src/operator/enforcerSchemas.js';
import { newApiKey } from '../../src/apiKeys/apiKeys.js';
import { ENFORCER_KEYS } from '../../src/enforcers/enforcers.js';
import { PARTNER_KEYS } from '../../src/partners/partnerKeys.js';
import {
  createRelationshipSchema,
  createRelationshipSchemaFor,
  listRelationshipsQuerySchema,
  reasonBodySchema,
  relationshipIdSchema,
} from '../../src/relationships/relationshipSchemas.js';

// The edge validates everything before anything changes: request bodies of the
// partner and operator APIs, and the customer pages' forms.

type Issue = { path: string; message: string };

function issues(schema: z.ZodType, value: unknown): Issue[] {
  const result = schema.safeParse(value);
  return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

const base = { customer: { tenantDomain: 'Contoso.EXAMPLE.', adminEmail: 'M.Jones@Contoso.example' }, roles: ['reports-reader'] };
const short = createRelationshipSchemaFor({ allowShortDurations: true });

describe('the offer a partner sends', () => {
  it('normalises the customer and fills defaults', () => {
    expect(createRelationshipSchema.parse(base)).toEqual({
      customer: { tenantDomain: 'contoso.example', adminEmail: 'm.jones@contoso.example' },
      roles: ['reports-reader'],
      autoExtend: false,
    });
  });

  it('turns every duration into milliseconds, in either notation', () => {
    const parsed = createRelationshipSchema.parse({
      ...base,
      duration: 'P365D',
      invitationTtl: '7d',
      trial: { offer: 'Business Premium', seats: 25, days: 30 },
      terms: 'Line one\r\nLine two',
      policy: { reminderBeforeExpiry: 'P2D', warningsBeforeEnd: ['30d', 'P7D'], autoExtendBy: '180d', trialProvisioningAttempts: 3 },
    });
    expect(parsed).toMatchObject({
      duration: 365 * DAY,
      invitationTtl: 7 * DAY,
      terms: 'Line one\nLine two',
      policy: { reminderBeforeExpiry: 2 * DAY, warningsBeforeEnd: [30 * DAY, 7 * DAY], autoExtendBy: 180 * DAY, trialProvisioningAttempts: 3 },
    });
  });

  it.each([
    ['duration', { duration: '8s' }, 'must be between 1 day and 2 years'],
    ['duration', { duration: 'P731D' }, 'must be between 1 day and 2 years'],
    ['invitationTtl', { invitationTtl: '30m' }, 'must be between 1 hour and 90 days'],
    ['policy.reminderBeforeExpiry', { policy: { reminderBeforeExpiry: '30s' } }, 'must be between 1 minute and 90 days'],
    ['policy.autoExtendBy', { policy: { autoExtendBy: '3y' } }, 'must be between 1 day and 2 years'],
    ['policy.warningsBeforeEnd.0', { policy: { warningsBeforeEnd: ['30m'] } }, 'must be between 1 hour and 2 years'],
    ['policy.warningsBeforeEnd', { policy: { warningsBeforeEnd: ['1d', '2d', '3d', '4d', '5d', '6d'] } }, 'must list at most 5 warnings'],
    ['policy.trialProvisioningAttempts', { policy: { trialProvisioningAttempts: 21 } }, 'must be between 1 and 20'],
    ['policy.trialProvisioningAttempts', { policy: { trialProvisioningAttempts: 2.5 } }, 'must be between 1 and 20 (a whole number)'],
    ['trial.seats', { trial: { offer: 'Trial', seats: 0, days: 30 } }, 'must be between 1 and 100000'],
    ['trial.days', { trial: { offer: 'Trial', seats: 1, days: 366 } }, 'must be between 1 and 365'],
    ['trial.days', { trial: { offer: 'Trial', seats: 1, days: '30' } }, 'must be between 1 and 365'],
  ])('%s is refused outside its range (production minimums)', (path, change, message) => {
    expect(issues(createRelationshipSchema, { ...base, ...change })).toContainEqual({ path, message });
  });

  it('with short durations allowed, only the minimums drop (to 1 second)', () => {
    expect(short.parse({ ...base, duration: '8s', invitationTtl: '30s' })).toMatchObject({ duration: 8 * SECOND, invitationTtl: 30 * SECOND });
    expect(issues(short, { ...base, duration: 'P731D' })).toContainEqual({ path: 'duration', message: 'must be between 1 second and 2 years' });
    expect(issues(createRelationshipSchemaFor({ allowShortDurations: false }), { ...base, duration: '8s' })).toHaveLength(1);
  });

  it('a reminder must come before the invitation expires, and a warning before the end', () => {
    expect(issues(short, { ...base, invitationTtl: '2h', policy: { reminderBeforeExpiry: '3h' } })).toEqual([
      { path: 'policy.reminderBeforeExpiry', message: 'must be shorter than the invitation TTL (2 hours)' },
    ]);
    // Against the default TTL (14 days) when the offer sets none.
    expect(issues(createRelationshipSchema, { ...base, policy: { reminderBeforeExpiry: '14d' } })).toEqual([
      { path: 'policy.reminderBeforeExpiry', message: 'must be shorter than the invitation TTL (14 days)' },
    ]);
    expect(issues(createRelationshipSchema, { ...base, duration: '30d', policy: { warningsBeforeEnd: ['7d', '30d', '31d'] } })).toEqual([
      { path: 'policy.warningsBeforeEnd.1', message: 'must be shorter than the duration (30 days)' },
      { path: 'policy.warningsBeforeEnd.2', message: 'must be shorter than the duration (30 days)' },
    ]);
    expect(short.parse({ ...base, invitationTtl: '2h', policy: { reminderBeforeExpiry: '1h' } }).policy?.reminderBeforeExpiry).toBe(HOUR);
  });

  it('roles: known ids, at least one, no repeats', () => {
    expect(issues(createRelationshipSchema, { ...base, roles: [] })[0]?.path).toBe('roles');
    expect(issues(createRelationshipSchema, { ...base, roles: ['global-administrator'] })[0]?.path).toBe('roles.0');
    expect(issues(createRelationshipSchema, { ...base, roles: ['reports-reader', 'reports-reader'] })).toContainEqual({ path: 'roles', message: 'roles must be unique' });
  });

  it('refuses unknown fields at every level rather than dropping them', () => {
    expect(issues(createRelationshipSchema, { ...base, admin: true })[0]?.message).toMatch(/admin/);
    expect(issues(createRelationshipSchema, { ...base, customer: { ...base.customer, verified: true } })[0]?.path).toBe('customer');
    expect(issues(createRelationshipSchema, { ...base, trial: { offer: 'T', seats: 1, days: 1, price: 0 } })[0]?.path).toBe('trial');
    expect(issues(createRelationshipSchema, { ...base, policy: { resendsPerInvitation: 1000 } })[0]?.path).toBe('policy');
  });

  it('the customer fields use the shared identifier schemas', () => {
    expect(issues(createRelationshipSchema, { ...base, customer: { ...base.customer, tenantDomain: '127.0.0.1' } })[0]?.path).toBe('customer.tenantDomain');
    expect(issues(createRelationshipSchema, { ...base, customer: { ...base.customer, adminEmail: 'nobody' } })[0]?.path).toBe('customer.adminEmail');
    expect(issues(createRelationshipSchema, { ...base, customer: { ...base.customer, name: 'Contoso\nBcc: x' } })[0]?.path).toBe('customer.name');
  });
});

describe('other partner API inputs', () => {
  it('reasonBodySchema: an optional paragraph, nothing else', () => {
    expect(reasonBodySchema.parse({})).toEqual({});
    expect(reasonBodySchema.parse({ reason: ' Done.\r\nThanks ' })).toEqual({ reason: 'Done.\nThanks' });
    expect(issues(reasonBodySchema, { reason: 'x'.repeat(2001) })[0]?.path).toBe('reason');
    expect(issues(reasonBodySchema, { reason: 'ok', notify: false })).toHaveLength(1);
  });

  it('listRelationshipsQuerySchema: coerces and bounds the limit, knows the statuses', () => {
    expect(listRelationshipsQuerySchema.parse({})).toEqual({ limit: 100 });
    expect(listRelationshipsQuerySchema.parse({ limit: '25', status: 'active', tenant: 'Contoso.example' })).toEqual({ limit: 25, status: 'active', tenant: 'contoso.example' });
    for (const limit of ['0', '501', '2.5', 'ten']) expect(issues(listRelationshipsQuerySchema, { limit })[0]?.path).toBe('limit');
    expect(issues(listRelationshipsQuerySchema, { status: 'pending' })[0]?.path).toBe('status');
    expect(issues(listRelationshipsQuerySchema, { partnerId: 'p1' })[0]?.path).toBe('partnerId');
  });

  it('accessQuerySchema: a domain and a known role', () => {
    expect(accessQuerySchema.parse({ tenant: 'CONTOSO.example', role: 'reports-reader' })).toEqual({ tenant: 'contoso.example', role: 'reports-reader' });
    expect(issues(accessQuerySchema, { tenant: 'contoso.example', role: 'root' })[0]?.path).toBe('role');
    expect(issues(accessQuerySchema, { tenant: 'contoso.example' })[0]?.path).toBe('role');
  });

  it('accessQuerySchema: an optional partner id (an enforcer names it), compared in lower case', () => {
    const partner = '7F1C2A0E-3B4D-4C5E-9F60-718293A4B5C6';
    expect(accessQuerySchema.parse({ partner, tenant: 'contoso.example', role: 'reports-reader' })).toEqual({
      partner: partner.toLowerCase(),
      tenant: 'contoso.example',
      role: 'reports-reader',
    });
    expect(accessQuerySchema.parse({ tenant: 'contoso.example', role: 'reports-reader' })).not.toHaveProperty('partner');
    for (const bad of ['', 'partner-a', '7f1c2a0e', 'pf_Ab3-_9z']) expect(issues(accessQuerySchema, { partner: bad, tenant: 'contoso.example', role: 'reports-reader' })[0]?.path, bad).toBe('partner');
    expect(issues(accessQuerySchema, { partnerId: partner.toLowerCase(), tenant: 'contoso.example', role: 'reports-reader' })).toHaveLength(1);
  });

  it(`accessBatchSchema: 1 to ${MAX_BATCH_CHECKS} questions of the same shape, each validated where it stands`, () => {
    const check = { tenant: 'Contoso.example', role: 'reports-reader' };
    expect(accessBatchSchema.parse({ checks: [check] })).toEqual({ checks: [{ tenant: 'contoso.example', role: 'reports-reader' }] });
    expect(accessBatchSchema.parse({ checks: Array.from({ length: MAX_BATCH_CHECKS }, () => check) }).checks).toHaveLength(MAX_BATCH_CHECKS);
    expect(issues(accessBatchSchema, { checks: Array.from({ length: MAX_BATCH_CHECKS + 1 }, () => check) })[0]?.path).toBe('checks');
    expect(issues(accessBatchSchema, { checks: [] })[0]?.path).toBe('checks');
    expect(issues(accessBatchSchema, { checks: [check, { ...check, role: 'root' }] })[0]?.path).toBe('checks.1.role');
    expect(issues(accessBatchSchema, { checks: [{ ...check, extra: 1 }] })).toHaveLength(1);
    expect(issues(accessBatchSchema, { checks: [check], more: true })).toHaveLength(1);
  });

  it('relationship ids are UUIDs', () => {
    expect(relationshipIdSchema.safeParse('7f1c2a0e-3b4d-4c5e-9f60-718293a4b5c6').success).toBe(true);
    expect(relationshipIdSchema.safeParse('../7f1c2a0e').success).toBe(false);
  });
});

describe('operator inputs', () => {
  it('createPartnerSchema: a display name, a contact address, an optional http(s) webhook, who provisions purchases (local unless said)', () => {
    expect(createPartnerSchema.parse({ name: ' Northwind ', contactEmail: 'Ops@Northwind.example', webhookUrl: 'https://hooks.northwind.example/pf' })).toEqual({
      name: 'Northwind',
      contactEmail: 'ops@northwind.example',
      webhookUrl: 'https://hooks.northwind.example/pf',
      provisioner: 'local',
    });
    expect(issues(createPartnerSchema, { name: 'N', contactEmail: 'ops@n.example', webhookUrl: 'javascript:alert(1)' })[0]?.path).toBe('webhookUrl');
    // Its system is asked only through the webhook, so a partner-provisioned partner without one is refused.
    expect(issues(createPartnerSchema, { name: 'N', contactEmail: 'ops@n.example', provisioner: 'partner' })[0]?.path).toBe('webhookUrl');
    expect(issues(createPartnerSchema, { name: 'N', contactEmail: 'ops@n.example', provisioner: 'reseller' })[0]?.path).toBe('provisioner');
    expect(issues(createPartnerSchema, { name: 'N', contactEmail: 'ops@n.example', apiKey: 'pf_x' })).toHaveLength(1);
  });

  it('putTenantSchema: a name and 1 to 50 admins, normalised', () => {
    expect(putTenantSchema.parse({ name: 'Contoso', admins: ['A@Contoso.example'] })).toEqual({ name: 'Contoso', admins: ['a@contoso.example'] });
    expect(issues(putTenantSchema, { name: 'Contoso', admins: [] })).toEqual([{ path: 'admins', message: 'a tenant needs at least one admin' }]);
    expect(issues(putTenantSchema, { name: 'Contoso', admins: Array.from({ length: 51 }, (_, i) => `a${i}@contoso.example`) })[0]?.path).toBe('admins');
    expect(tenantDomainParamSchema.parse('Contoso.Example.')).toBe('contoso.example');
  });

  it('rotateKeySchema: grace from 0 to 7 days, one day by default', () => {
    expect(rotateKeySchema.parse({})).toEqual({ graceSeconds: 86_400 });
    expect(rotateKeySchema.parse({ graceSeconds: 0 })).toEqual({ graceSeconds: 0 });
    expect(issues(rotateKeySchema, { graceSeconds: 7 * 86_400 + 1 })[0]?.path).toBe('graceSeconds');
    expect(issues(rotateKeySchema, { graceSeconds: -1 })[0]?.path).toBe('graceSeconds');
  });

  it('keyRefSchema: a key id or the prefix partners see', () => {
    expect(keyRefSchema.parse('7f1c2a0e-3b4d-4c5e-9f60-718293a4b5c6')).toEqual({ id: '7f1c2a0e-3b4d-4c5e-9f60-718293a4b5c6' });
    expect(keyRefSchema.parse('pf_Ab3-_9z')).toEqual({ prefix: 'pf_Ab3-_9z' });
    for (const ref of ['pf_short', 'pf_Ab3-_9zX', 'xx_Ab3-_9z', '', 'pfe_Ab3-_9z']) expect(keyRefSchema.safeParse(ref).success, ref).toBe(false);
  });

  it('keys say what they are: pf_ for partners, pfe_ for enforcers, and a prefix of the tag and 7 characters', () => {
    const partner = newApiKey(PARTNER_KEYS);
    const enforcer = newApiKey(ENFORCER_KEYS);
    expect(partner.apiKey).toMatch(/^pf_[A-Za-z0-9_-]{43}$/);
    expect(enforcer.apiKey).toMatch(/^pfe_[A-Za-z0-9_-]{43}$/);
    expect(partner.prefix).toBe(partner.apiKey.slice(0, 10));
    expect(enforcer.prefix).toBe(enforcer.apiKey.slice(0, 11));
    expect(keyRefSchema.parse(partner.prefix)).toEqual({ prefix: partner.prefix });
    expect(enforcerKeyRefSchema.parse(enforcer.prefix)).toEqual({ prefix: enforcer.prefix });
    for (const key of [partner, enforcer]) {
      expect(key.keyHash).toMatch(/^[0-9a-f]{64}$/);
      expect(key.keyHash).not.toContain(key.apiKey);
    }
  });

  it('enforcerKeyRefSchema: a key id or the prefix the enforcer list shows (pfe_ and 7 characters), never a partner key prefix', () => {
    expect(enforcerKeyRefSchema.parse('7f1c2a0e-3b4d-4c5e-9f60-718293a4b5c6')).toEqual({ id: '7f1c2a0e-3b4d-4c5e-9f60-718293a4b5c6' });
    expect(enforcerKeyRefSchema.parse('pfe_Ab3-_9z')).toEqual({ prefix: 'pfe_Ab3-_9z' });
    for (const ref of ['pf_Ab3-_9z', 'pfe_short', 'pfe_Ab3-_9zX', 'pfeXAb3-_9z', '']) expect(enforcerKeyRefSchema.safeParse(ref).success, ref).toBe(false);
  });

  it('createEnforcerSchema: a display name and, optionally, its tenants, normalised and without repeats', () => {
    expect(createEnforcerSchema.parse({ name: ' Admin executor ' })).toEqual({ name: 'Admin executor', tenants: null });
    expect(createEnforcerSchema.parse({ name: 'Executor', tenants: null })).toEqual({ name: 'Executor', tenants: null });
    expect(createEnforcerSchema.parse({ name: 'Executor', tenants: ['Contoso.EXAMPLE.', 'contoso.example', 'bücher.example'] })).toEqual({
      name: 'Executor',
      tenants: ['contoso.example', 'xn--bcher-kva.example'],
    });
    // An empty list would be "no tenant at all": a useless key, or a mistake for "every tenant".
    expect(issues(createEnforcerSchema, { name: 'Executor', tenants: [] })[0]?.path).toBe('tenants');
    expect(issues(createEnforcerSchema, { name: 'Executor', tenants: ['contoso.example', 'not a domain'] })[0]?.path).toBe('tenants.1');
    expect(issues(createEnforcerSchema, { name: 'Executor', tenants: 'contoso.example' })[0]?.path).toBe('tenants');
    const many = Array.from({ length: MAX_ENFORCER_TENANTS + 1 }, (_, i) => `t${i}.example`);
    expect(issues(createEnforcerSchema, { name: 'Executor', tenants: many })[0]?.path).toBe('tenants');
    expect(createEnforcerSchema.parse({ name: 'Executor', tenants: many.slice(1) }).tenants).toHaveLength(MAX_ENFORCER_TENANTS);
    expect(issues(createEnforcerSchema, { tenants: ['contoso.example'] })[0]?.path).toBe('name');
    expect(issues(createEnforcerSchema, { name: 'Bad\u202eName' })[0]?.path).toBe('name');
    expect(issues(createEnforcerSchema, { name: 'Executor', allTenants: true })).toHaveLength(1);
  });
});

describe('customer page forms', () => {
  it('the invitation answer: yes or no, an optional reason, and the trial step', () => {
    expect(invitationAnswerFormSchema.parse({ choice: 'yes', trial: 'start' })).toEqual({ choice: 'yes', trial: 'start' });
    expect(invitationAnswerFormSchema.parse({ choice: 'no', reason: '  not now ' })).toEqual({ choice: 'no', reason: 'not now' });
    expect(invitationAnswerFormSchema.safeParse({ choice: 'maybe' }).success).toBe(false);
    expect(invitationAnswerFormSchema.safeParse({ choice: 'yes', trial: 'later' }).success).toBe(false);
    expect(invitationAnswerFormSchema.safeParse({ choice: 'no', reason: 'x'.repeat(2001) }).success).toBe(false);
  });

  it('sign-in and registration normalise the domain and the address', () => {
    expect(signInFormSchema.parse({ tenantDomain: 'Contoso.Example.', email: 'Admin@Contoso.Example' })).toEqual({ tenantDomain: 'contoso.example', email: 'admin@contoso.example' });
    expect(newTenantFormSchema.parse({ tenantDomain: 'bücher.example', name: ' Bücher ', email: 'a@xn--bcher-kva.example' }).tenantDomain).toBe('xn--bcher-kva.example');
    expect(newTenantFormSchema.safeParse({ tenantDomain: 'contoso.example', name: 'C\u202Eo', email: 'a@contoso.example' }).success).toBe(false);
    expect(signInFormSchema.safeParse({ tenantDomain: 'contoso.example/x', email: 'a@contoso.example' }).success).toBe(false);
  });

  it('every signed-in form carries a CSRF token', () => {
    expect(csrfFormSchema.safeParse({}).success).toBe(false);
    expect(csrfFormSchema.safeParse({ csrf: '' }).success).toBe(false);
    expect(csrfFormSchema.safeParse({ csrf: 'x'.repeat(201) }).success).toBe(false);
    expect(adminEmailFormSchema.safeParse({ email: 'a@contoso.example' }).success).toBe(false);
    expect(adminEmailFormSchema.parse({ email: 'A@Contoso.example', csrf: 't' })).toEqual({ email: 'a@contoso.example', csrf: 't' });
  });

  it('the invitation token linked back from a domain verification looks like a token', () => {
    expect(verifyDomainFormSchema.parse({})).toEqual({});
    expect(verifyDomainFormSchema.parse({ invitation: 'A'.repeat(43) })).toEqual({ invitation: 'A'.repeat(43) });
    for (const invitation of ['short', 'x'.repeat(101), `${'a'.repeat(30)}/../x`, `${'a'.repeat(30)}"`]) {
      expect(verifyDomainFormSchema.safeParse({ invitation }).success, invitation).toBe(false);
    }
  });

  it('the partner list filter defaults to active', () => {
    expect(partnerListQuerySchema.parse({})).toEqual({ filter: 'active' });
    expect(partnerListQuerySchema.parse({ filter: 'ended' })).toEqual({ filter: 'ended' });
    expect(partnerListQuerySchema.safeParse({ filter: 'deleted' }).success).toBe(false);
  });
});
