import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from '../../src/webhooks/webhookSignature.js';

// The reference check partners copy: pure functions, no services needed.

const secret = 'whsec-test-0123456789';
const body = '{"id":"relationship-1-transition-1","type":"relationship.invited"}';
const t = 1_764_489_600;
const at = (seconds: number) => ({ now: seconds * 1000 });

describe('webhook signatures', () => {
  it('accepts what was signed, as a string or as the raw bytes', () => {
    const header = signWebhook(secret, body, t);
    expect(header).toMatch(/^t=1764489600,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(secret, header, body, at(t))).toEqual({ ok: true, timestamp: t });
    expect(verifyWebhook(secret, header, Buffer.from(body), at(t + 10))).toEqual({ ok: true, timestamp: t });
  });

  it('refuses a changed body, timestamp or secret', () => {
    const header = signWebhook(secret, body, t);
    expect(verifyWebhook(secret, header, `${body} `, at(t))).toEqual({ ok: false, reason: 'signatureMismatch' });
    expect(verifyWebhook(secret, header.replace(`t=${t}`, `t=${t + 1}`), body, at(t))).toEqual({ ok: false, reason: 'signatureMismatch' });
    expect(verifyWebhook('another', header, body, at(t))).toEqual({ ok: false, reason: 'signatureMismatch' });
  });

  it('refuses timestamps outside the tolerance, either way (replays and clock games)', () => {
    const header = signWebhook(secret, body, t);
    expect(verifyWebhook(secret, header, body, at(t + 300))).toMatchObject({ ok: true });
    expect(verifyWebhook(secret, header, body, at(t + 301))).toEqual({ ok: false, reason: 'timestampOutOfRange' });
    expect(verifyWebhook(secret, header, body, at(t - 301))).toEqual({ ok: false, reason: 'timestampOutOfRange' });
    expect(verifyWebhook(secret, header, body, { now: (t + 3600) * 1000, toleranceSeconds: 3600 })).toMatchObject({ ok: true });
  });

  it('accepts any of several v1 signatures (secret rotation) and refuses malformed headers', () => {
    const current = signWebhook(secret, body, t);
    const old = signWebhook('old-secret', body, t).split(',')[1];
    expect(verifyWebhook(secret, `${current},${old}`, body, at(t))).toMatchObject({ ok: true });
    expect(verifyWebhook(secret, `t=${t},${old}`, body, at(t))).toEqual({ ok: false, reason: 'signatureMismatch' });
    for (const header of [undefined, null, '', 'v1=abc', `t=${t}`, `t=soon,${current.split(',')[1]}`, `t=${t},v1=${'0'.repeat(63)}`]) {
      expect(verifyWebhook(secret, header, body, at(t))).toEqual({ ok: false, reason: 'malformed' });
    }
  });
});
