import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ENCRYPTED_ENCODING, payloadCodecOf } from '../../src/infra/payloadCodec.js';
import { useTestApp } from '../support/useTestApp.js';

// The remote codec of the Temporal Web UI and CLI (POST /codec/decode, /codec/encode):
// it decrypts every payload of the deployment, so only the operator may use it, and
// from a browser only on the configured Web UI's pages.

const WEB_UI = 'http://temporal-ui.test:8233';
const input = { customer: { tenantDomain: 'fabrikam.example', adminEmail: 'it-admin@fabrikam.example', name: 'Fay Fabrikam' } };

const asJson = (payloads: Payload[]) => ({
  payloads: payloads.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  })),
});
type PayloadsJson = ReturnType<typeof asJson>;
const valueOf = (json: PayloadsJson, index = 0): unknown => {
  const p = json.payloads[index]!;
  return defaultPayloadConverter.fromPayload({
    metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data, 'base64'),
  });
};
const basic = (password: string) => `Basic ${Buffer.from(`operator:${password}`).toString('base64')}`;

describe('the codec endpoint', () => {
  const { app, api } = useTestApp({ env: { TEMPORAL_UI_URL: `${WEB_UI}/` } });
  const encrypted = async () => asJson(await payloadCodecOf(app.config).encode([defaultPayloadConverter.toPayload(input)]));
  const bearer = () => ({ authorization: `Bearer ${app.operatorToken}` });

  it('decodes what the project encrypted, and encodes for the Web UI (operator token, as the CLI sends it)', async () => {
    const decoded = await api.post('/codec/decode').set(bearer()).set('x-namespace', 'default').send(await encrypted());
    expect(decoded.status).toBe(200);
    expect(valueOf(decoded.body as PayloadsJson)).toEqual(input);
    expect(decoded.headers['cache-control']).toBe('no-store');

    const encoded = await api.post('/codec/encode').set(bearer()).send(asJson([defaultPayloadConverter.toPayload(input)]));
    expect(encoded.status).toBe(200);
    const body = encoded.body as PayloadsJson;
    expect(Buffer.from(body.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    expect(JSON.stringify(body)).not.toContain(Buffer.from('it-admin@fabrikam.example').toString('base64').slice(0, 12));
    const back = await api.post('/codec/decode').set(bearer()).send(body);
    expect(valueOf(back.body as PayloadsJson)).toEqual(input);

    // Payloads written before encryption come back as they are.
    const plain = asJson([defaultPayloadConverter.toPayload('plain')]);
    expect((await api.post('/codec/decode').set(bearer()).send(plain)).body).toEqual(plain);
  });

  it('refuses everyone but the operator', async () => {
    const body = await encrypted();
    const partner = await api.post('/api/v1/admin/partners').set(bearer()).send({ name: 'Codec Curious', contactEmail: 'ops@codec-curious.example' });
    expect(partner.status).toBe(201);
    const attempts = [
      {},
      { authorization: `Bearer ${(partner.body as { apiKey: string }).apiKey}` },
      { authorization: `Bearer ${app.operatorToken}x` },
      { authorization: basic(app.operatorToken) },
      { cookie: 'pf_codec=s%3A9999999999999.forged.signature' },
    ];
    for (const headers of attempts) {
      const refused = await api.post('/codec/decode').set(headers).send(body);
      expect(refused.status).toBe(401);
      expect(JSON.stringify(refused.body)).not.toContain('fabrikam');
    }
  });

  it('lets a browser signed in with the operator token decode from the Web UI’s origin, with CORS for it only', async () => {
    const asked = await api.get('/codec/session');
    expect(asked.status).toBe(401);
    expect(asked.headers['www-authenticate']).toMatch(/^Basic /);
    expect((await api.get('/codec/session').set('authorization', basic('not-the-token'))).status).toBe(401);

    const signedIn = await api.get('/codec/session').set('authorization', basic(app.operatorToken));
    expect(signedIn.status).toBe(200);
    const setCookie = String(signedIn.headers['set-cookie']);
    expect(setCookie).toMatch(/^pf_codec=s%3A/);
    expect(setCookie).toContain('Path=/codec');
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    const cookie = setCookie.split(';')[0]!;

    // The Web UI's preflight: its origin, credentials, the X-Namespace header.
    const preflight = await api
      .options('/codec/decode')
      .set({ origin: WEB_UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(WEB_UI);
    expect(preflight.headers['access-control-allow-credentials']).toBe('true');
    expect(preflight.headers['access-control-allow-headers']).toContain('x-namespace');

    const decoded = await api.post('/codec/decode').set({ origin: WEB_UI, cookie, 'x-namespace': 'default' }).send(await encrypted());
    expect(decoded.status).toBe(200);
    expect(decoded.headers['access-control-allow-origin']).toBe(WEB_UI);
    expect(valueOf(decoded.body as PayloadsJson)).toEqual(input);
  });

  it('refuses a page of any other origin, preflight or not, even with the operator’s credentials', async () => {
    for (const origin of ['https://evil.example', 'http://temporal-ui.test:8234', 'null']) {
      const preflight = await api.options('/codec/decode').set({ origin, 'access-control-request-method': 'POST' });
      expect(preflight.status).toBe(403);
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      const post = await api.post('/codec/decode').set({ origin, ...bearer() }).send(await encrypted());
      expect(post.status).toBe(403);
      expect(post.headers['access-control-allow-origin']).toBeUndefined();
      expect(JSON.stringify(post.body)).not.toContain('fabrikam');
    }
  });

  it('answers only for its namespace, bounds the body, and says so when a payload does not decrypt', async () => {
    expect((await api.post('/codec/decode').set(bearer()).set('x-namespace', 'other').send(await encrypted())).status).toBe(403);
    expect((await api.post('/codec/decode').set(bearer()).set('content-type', 'text/plain').send('{"payloads":[]}')).status).toBe(415);
    const huge = { payloads: [{ metadata: {}, data: 'A'.repeat(5 * 1024 * 1024) }] };
    expect((await api.post('/codec/decode').set(bearer()).send(huge)).status).toBe(413);
    expect((await api.post('/codec/decode').set(bearer()).send({ payloads: [{ data: 'not base64!' }] })).status).toBe(400);

    const body = await encrypted();
    const sealed = Buffer.from(body.payloads[0]!.data, 'base64');
    sealed[sealed.length - 1] = sealed[sealed.length - 1]! ^ 1;
    body.payloads[0]!.data = sealed.toString('base64');
    const tampered = await api.post('/codec/decode').set(bearer()).send(body);
    expect(tampered.status).toBe(400);
    expect(tampered.body).toMatchObject({ reason: 'tampered' });
  });
});
