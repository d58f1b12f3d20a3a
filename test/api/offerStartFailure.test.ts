import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/useTestApp.js';
import { field, uniqueDomain } from './apiHarness.js';
import { auth, createPartner } from './customerFlow.js';

// Creation leaves no orphan (issue 12): when the workflow cannot be started the
// saved offer is removed again, with its purchase, and the partner may simply
// try again. Temporal here answers, but knows no such namespace, so every start fails.

describe('an offer whose workflow cannot start', () => {
  const { app, api } = useTestApp({ env: { TEMPORAL_NAMESPACE: 'pf-test-no-such-namespace' } });

  it('is 503 and leaves nothing behind, purchase included, so the same offer can be made again', async () => {
    const partner = await createPartner(api, app.operatorToken, 'Startless', 'ops@startless.example');
    const tenantDomain = uniqueDomain('startless');
    const body = {
      customer: { tenantDomain, adminEmail: `admin@${tenantDomain}` },
      roles: ['reports-reader'],
      trial: { offer: 'Business Basic', seats: 3, days: 14 },
      purchase: { product: 'Business Premium', seats: 5, term: 'P1M', pricePerSeat: { amount: '10.00', currency: 'EUR' } },
    };
    for (const attempt of [1, 2]) {
      const res = await api.post('/api/v1/relationships').set(auth(partner.key)).send(body);
      expect(res.status, `attempt ${attempt}: ${res.text}`).toBe(503);
      expect(field(res, 'type')).toBe('/problems/unavailable');
    }
    expect(await app.db.relationship.count({ where: { partnerId: partner.id } })).toBe(0);
    expect(await app.db.subscription.count({ where: { relationship: { partnerId: partner.id } } })).toBe(0);
  });
});
