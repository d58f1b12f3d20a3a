import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { partnerCreatedSchema, partnerListSchema, problemSchema, relationshipSchema } from '../../src/apiDocs/responseSchemas.js';
import { useTestApp } from '../support/useTestApp.js';
import { expectShape, field, idOf, uniqueDomain } from './apiHarness.js';
import { auth, createPartner } from './customerFlow.js';

// Issue 17 at the edge: a purchase offer beside (or instead of) a trial, every field of it
// bounded by the contract's ranges (src/contract/purchase.ts) and refused with a 400 naming
// the field; the subscriptions row written with the relationship; the partner's provisioner.

const purchase = (extra: Record<string, unknown> = {}) => ({
  product: 'Business Premium',
  seats: 25,
  term: 'P1M',
  pricePerSeat: { amount: '12.50', currency: 'EUR' },
  ...extra,
});

const offer = (extra: Record<string, unknown> = {}) => {
  const tenantDomain = uniqueDomain('purchase');
  return { customer: { tenantDomain, adminEmail: `admin@${tenantDomain}` }, roles: ['reports-reader'], ...extra };
};

function expectFieldError(res: request.Response, path: string, message: string | RegExp) {
  expect(res.status, res.text).toBe(400);
  expect(expectShape(problemSchema, res.body).type).toBe('/problems/validation');
  const errors = field(res, 'errors') as { path: string; message: string }[];
  const matching: unknown = typeof message === 'string' ? message : expect.stringMatching(message);
  expect(errors).toContainEqual({ path, message: matching });
}

describe('purchase offers at the API (production minimums)', () => {
  const { app, api } = useTestApp({ env: { ALLOW_SHORT_DURATIONS: 'false', RESEND_COOLDOWN_SECONDS: '600' } });
  let key: string;

  beforeAll(async () => {
    ({ key } = await createPartner(api, app.operatorToken, 'Purchase partner', 'ops@purchase.example'));
  });

  const post = (body: unknown) => api.post('/api/v1/relationships').set(auth(key)).send(body as object);

  it.each([
    ['purchase.product', { product: '' }, 'must not be empty'],
    ['purchase.product', { product: 'x'.repeat(121) }, 'must be at most 120 characters'],
    ['purchase.product', { product: 'Premium\u202Eevil' }, /invisible formatting/],
    ['purchase.seats', { seats: 0 }, 'must be between 1 and 100000'],
    ['purchase.seats', { seats: 100_001 }, 'must be between 1 and 100000'],
    ['purchase.seats', { seats: 2.5 }, 'must be between 1 and 100000 (a whole number)'],
    ['purchase.term', { term: 'P5D' }, /P1M/],
    ['purchase.pricePerSeat.amount', { pricePerSeat: { amount: '12.345678', currency: 'EUR' } }, /decimal string/],
    ['purchase.pricePerSeat.amount', { pricePerSeat: { amount: '1e3', currency: 'EUR' } }, /decimal string/],
    ['purchase.pricePerSeat.amount', { pricePerSeat: { amount: '-1', currency: 'EUR' } }, /decimal string/],
    ['purchase.pricePerSeat.amount', { pricePerSeat: { amount: '1234567890', currency: 'EUR' } }, /decimal string/],
    ['purchase.pricePerSeat.currency', { pricePerSeat: { amount: '1', currency: 'eur' } }, /ISO 4217/],
    ['purchase.pricePerSeat.currency', { pricePerSeat: { amount: '1', currency: 'EURO' } }, /ISO 4217/],
  ])('refuses %s out of its range: %j', async (path, extra, message) => {
    expectFieldError(await post(offer({ purchase: purchase(extra) })), path, message);
  });

  it('refuses unknown purchase fields, a missing price, and deadlines outside 60 s … 30 days', async () => {
    expectFieldError(await post(offer({ purchase: purchase({ discount: '10%' }) })), 'purchase', /Unrecognized key/);
    expectFieldError(await post(offer({ purchase: { product: 'X', seats: 1, term: 'P1Y' } })), 'purchase.pricePerSeat', /.+/);
    expectFieldError(await post(offer({ purchase: purchase(), provisioningDeadlineSeconds: 59 })), 'provisioningDeadlineSeconds', 'must be between 60 and 2592000');
    expectFieldError(await post(offer({ purchase: purchase(), provisioningDeadlineSeconds: 2_592_001 })), 'provisioningDeadlineSeconds', 'must be between 60 and 2592000');
  });

  it('stores the purchase beside a trial: the subscriptions row is offered, the view shows price and exact total', async () => {
    const res = await post(offer({ trial: { offer: 'Trial', seats: 5, days: 30 }, purchase: purchase({ seats: 3, pricePerSeat: { amount: '0.1', currency: 'USD' }, autoRenew: true }) }));
    expect(res.status, res.text).toBe(201);
    const view = expectShape(relationshipSchema, res.body);
    expect(view.subscription).toEqual({
      status: 'offered',
      product: 'Business Premium',
      seats: 3,
      term: 'P1M',
      pricePerSeat: { amount: '0.1', currency: 'USD' },
      // 3 × 0.1 exactly (a float would say 0.30000000000000004)
      total: { amount: '0.30', currency: 'USD' },
      autoRenew: true,
      agreedAt: null,
      requestedAt: null,
      deadlineAt: null,
      completedAt: null,
      externalRef: null,
      failureReason: null,
    });
    expect(view.trial).toMatchObject({ offer: 'Trial', seats: 5, days: 30 });
    const row = await app.db.subscription.findUniqueOrThrow({ where: { relationshipId: view.id } });
    expect(row).toMatchObject({ status: 'offered', product: 'Business Premium', seats: 3, term: 'P1M', priceAmount: '0.1', currency: 'USD', autoRenew: true });

    const listed = (await api.get('/api/v1/relationships').set(auth(key))).body as { relationships: { id: string; subscription: unknown }[] };
    expect(listed.relationships.find((r) => r.id === view.id)?.subscription).toEqual(view.subscription);
  });

  it('an offer without a purchase has subscription null and no row', async () => {
    const res = await post(offer());
    expect(res.status, res.text).toBe(201);
    expect(expectShape(relationshipSchema, res.body).subscription).toBeNull();
    expect(await app.db.subscription.count({ where: { relationshipId: idOf(res) } })).toBe(0);
  });
});

describe('the partner provisioner setting', () => {
  const { app, api } = useTestApp();
  const operator = () => auth(app.operatorToken);

  it('defaults to local, is set to partner only with a webhook URL, and is listed', async () => {
    const local = await api.post('/api/v1/admin/partners').set(operator()).send({ name: 'Local provisioning', contactEmail: 'ops@local.example' });
    expect(expectShape(partnerCreatedSchema, local.body).provisioner).toBe('local');

    const noUrl = await api.post('/api/v1/admin/partners').set(operator()).send({ name: 'No URL', contactEmail: 'ops@nourl.example', provisioner: 'partner' });
    expectFieldError(noUrl, 'webhookUrl', 'is required when provisioner is "partner"');
    const unknown = await api.post('/api/v1/admin/partners').set(operator()).send({ name: 'Odd', contactEmail: 'ops@odd.example', provisioner: 'billing' });
    expect(unknown.status).toBe(400);

    const own = await api
      .post('/api/v1/admin/partners')
      .set(operator())
      .send({ name: 'Own system', contactEmail: 'ops@own.example', webhookUrl: 'https://hooks.own.example/partnerflow', provisioner: 'partner' });
    expect(own.status, own.text).toBe(201);
    expect(expectShape(partnerCreatedSchema, own.body).provisioner).toBe('partner');
    const partners = expectShape(partnerListSchema, (await api.get('/api/v1/admin/partners').set(operator())).body).partners;
    expect(partners.find((p) => p.id === idOf(own))?.provisioner).toBe('partner');
    expect(partners.find((p) => p.id === idOf(local))?.provisioner).toBe('local');
  });
});
