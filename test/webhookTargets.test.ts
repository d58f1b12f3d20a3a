import { describe, expect, it } from 'vitest';
import { apiClient } from './support/http.js';
import { customer, offer, unique } from './support/relationshipDriver.js';
import { useTestSystem } from './support/useTestSystem.js';
import { waitFor } from './support/waitFor.js';
import { useWebhookReceiver } from './support/webhookReceiver.js';

// Issue 10, item 7 (SSRF): with WEBHOOK_ALLOW_PRIVATE_TARGETS off (the default),
// a webhook URL may not point at loopback, private, link-local (metadata service)
// or other special addresses: refused at registration (400 naming webhookUrl), and
// refused again at delivery against the address actually resolved, so a URL stored
// earlier or a name that now resolves to 127.0.0.1 sends nothing.

describe('webhook targets', () => {
  // Registered first, so it closes after the system has stopped.
  const receiver = useWebhookReceiver();
  const system = useTestSystem('webhook-targets', { env: { WEBHOOK_ATTEMPTS: '3', WEBHOOK_BACKOFF_MS: '200' } });

  const operator = () => apiClient(system.baseUrl, system.operatorToken);
  const register = (webhookUrl: string) =>
    operator().post('/api/v1/admin/partners', { name: `Partner ${unique('target')}`, contactEmail: `ops@${unique('target')}.example`, webhookUrl });

  it.each([
    'http://127.0.0.1/hook',
    'http://[::1]/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/hook',
    'http://192.168.1.20:8080/hook',
    'http://172.16.5.4/hook',
    'http://[fd00::1]/hook',
    'http://[fe80::1]/hook',
    'http://0.0.0.0/hook',
    'http://224.0.0.1/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://localhost:8080/hook',
  ])('refuses %s at registration, naming the field', async (url) => {
    const before = await system.db.partner.count();
    const res = await register(url);
    expect(res.status, res.text).toBe(400);
    expect(res.json).toMatchObject({ type: '/problems/validation', errors: [{ path: 'webhookUrl', message: expect.stringMatching(/public address/) as unknown }] });
    expect(await system.db.partner.count()).toBe(before);
  });

  it('accepts a public address', async () => {
    expect((await register('https://93.184.215.14/hook')).status).toBe(201);
  });

  it('refuses at delivery a stored loopback URL and a name resolving to loopback: final failure, nothing sent', async () => {
    const port = new URL(receiver.endpoint('/stored', () => 204)).port;
    receiver.endpoint('/by-name', () => 204);
    const targets = { stored: `http://127.0.0.1:${port}/stored`, byName: `http://localhost:${port}/by-name` };
    for (const [label, url] of Object.entries(targets)) {
      // Registered when it was allowed (a public URL here), then pointed at loopback: a URL stored before these checks.
      const created = await register('https://93.184.215.14/hook');
      expect(created.status).toBe(201);
      await system.db.partner.update({ where: { id: String(created.json.id) }, data: { webhookUrl: url } });
      const partner = { id: String(created.json.id), name: label, contactEmail: 'x', api: apiClient(system.baseUrl, String(created.json.apiKey)) };
      const { id } = await offer(system, partner, customer(label));
      const failed = await waitFor(
        async () => {
          const rows = await system.db.webhookDelivery.findMany({ where: { relationshipId: id }, include: { attemptLog: true } });
          return rows[0]?.status === 'failed' ? rows[0] : undefined;
        },
        { what: `the ${label} delivery marked failed` },
      );
      // Final at the first attempt, with the reason, and no status code: no request was made.
      expect(failed).toMatchObject({ attempts: 1, lastStatusCode: null });
      expect(failed.lastError).toMatch(/127\.0\.0\.1 \(loopback\).*only reach public addresses/);
      expect(failed.attemptLog).toHaveLength(1);
    }
    expect(receiver.received).toHaveLength(0);
  });
});
