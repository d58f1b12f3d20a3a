import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Actor, Transition } from '../../src/contract/relationship.js';
import { transitionDeliveryId, transitionEvent } from '../../src/webhooks/webhookEvent.js';
import { DEFAULT_TOLERANCE_SECONDS, signWebhook, verifyWebhook } from '../../src/webhooks/webhookSignature.js';
import { addressRange, createWebhookTargetPolicy, hostOf, isPublicAddress, WebhookTargetRefusedError } from '../../src/webhooks/webhookTarget.js';

// Webhooks without any network: the body (transitionEvent), its signature, and
// the address checks that keep deliveries off private networks. Only the IP
// literal paths of checkUrl are exercised; names need a resolver.

describe('transitionEvent', () => {
  const snapshot = {
    status: 'active' as const,
    invitationExpiresAt: '2025-06-15T12:00:00.000Z',
    acceptedAt: '2025-06-02T09:00:00.000Z',
    activatedAt: '2025-06-02T09:00:05.000Z',
    endsAt: '2027-06-02T09:00:05.000Z',
    endedAt: null,
    autoExtend: true,
  };
  const event = (actor: Actor, extra: Partial<Transition> = {}) =>
    transitionEvent({
      workflowId: 'relationship-7f1c2a0e',
      relationshipId: '7f1c2a0e',
      partnerId: 'partner-1',
      tenantDomain: 'contoso.example',
      roles: ['reports-reader'],
      transition: { seq: 3, from: 'accepted', to: 'active', at: '2025-06-02T09:00:05.000Z', actor, ...extra },
      snapshot,
    });

  it('has the documented shape, with a stable id per transition', () => {
    expect(event({ type: 'system' })).toEqual({
      id: 'relationship-7f1c2a0e-transition-3',
      type: 'relationship.active',
      createdAt: '2025-06-02T09:00:05.000Z',
      data: {
        relationshipId: '7f1c2a0e',
        partnerId: 'partner-1',
        tenantDomain: 'contoso.example',
        status: 'active',
        transition: { seq: 3, from: 'accepted', to: 'active', at: '2025-06-02T09:00:05.000Z', actor: { type: 'system' }, reason: null },
        relationship: {
          roles: ['reports-reader'],
          invitationExpiresAt: '2025-06-15T12:00:00.000Z',
          acceptedAt: '2025-06-02T09:00:00.000Z',
          activatedAt: '2025-06-02T09:00:05.000Z',
          endsAt: '2027-06-02T09:00:05.000Z',
          endedAt: null,
          autoExtend: true,
        },
      },
    });
    expect(event({ type: 'customer', id: 'x' }, { reason: 'Not needed' }).data.transition.reason).toBe('Not needed');
  });

  it('never sends a customer actor id (it would tell the partner who the admins are)', () => {
    const sent = event({ type: 'customer', id: 'it-admin@contoso.example' });
    expect(sent.data.transition.actor).toEqual({ type: 'customer' });
    expect(JSON.stringify(sent)).not.toContain('it-admin@contoso.example');
  });

  it('keeps the id of partner and operator actors', () => {
    expect(event({ type: 'partner', id: 'partner-1' }).data.transition.actor).toEqual({ type: 'partner', id: 'partner-1' });
    expect(event({ type: 'operator', id: 'ops' }).data.transition.actor).toEqual({ type: 'operator', id: 'ops' });
    expect(event({ type: 'partner', id: '' }).data.transition.actor).toEqual({ type: 'partner' });
  });

  it('no customer id reaches the body, whatever it is', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (id) => {
        expect(event({ type: 'customer', id }).data.transition.actor).toStrictEqual({ type: 'customer' });
      }),
      { seed: 9001, numRuns: 200 },
    );
  });

  it('delivery ids have no colon and are never all digits (BullMQ job ids)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9-]{1,40}$/), fc.nat(), (workflowId, seq) => {
        const id = transitionDeliveryId(workflowId, seq);
        expect(id).not.toContain(':');
        expect(id).not.toMatch(/^\d+$/);
        expect(id).toBe(`${workflowId}-transition-${seq}`);
      }),
      { seed: 9002, numRuns: 200 },
    );
  });
});

describe('webhook signatures: properties', () => {
  const t = 1_764_489_600;
  const at = { now: t * 1000 };

  it('verify(sign(body)) holds for any secret and body, as text or bytes', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.uint8Array({ maxLength: 512 }), (secret, bytes) => {
        const header = signWebhook(secret, bytes, t);
        expect(verifyWebhook(secret, header, bytes, at)).toEqual({ ok: true, timestamp: t });
        expect(verifyWebhook(secret, header, Buffer.from(bytes), at)).toEqual({ ok: true, timestamp: t });
      }),
      { seed: 9003, numRuns: 150 },
    );
  });

  it('any one changed byte of the body is a mismatch', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, index, delta) => {
        const header = signWebhook('whsec-test', bytes, t);
        const changed = Uint8Array.from(bytes);
        const i = index % changed.length;
        changed[i] = ((changed[i] ?? 0) + delta) % 256;
        expect(verifyWebhook('whsec-test', header, changed, at)).toEqual({ ok: false, reason: 'signatureMismatch' });
      }),
      { seed: 9004, numRuns: 150 },
    );
  });

  it('any one changed hex digit of the signature is a mismatch', () => {
    const body = '{"id":"relationship-1-transition-1"}';
    const header = signWebhook('whsec-test', body, t);
    const signature = header.split('v1=')[1] ?? '';
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 1, max: 15 }), (index, delta) => {
        const digit = (parseInt(signature[index] ?? '0', 16) + delta) % 16;
        const forged = `${signature.slice(0, index)}${digit.toString(16)}${signature.slice(index + 1)}`;
        expect(verifyWebhook('whsec-test', `t=${t},v1=${forged}`, body, at)).toEqual({ ok: false, reason: 'signatureMismatch' });
      }),
      { seed: 9005, numRuns: 200 },
    );
  });

  it('the timestamp is accepted exactly within the tolerance, either way', () => {
    const header = signWebhook('s', 'body', t);
    fc.assert(
      fc.property(fc.integer({ min: -3 * DEFAULT_TOLERANCE_SECONDS, max: 3 * DEFAULT_TOLERANCE_SECONDS }), (skew) => {
        const result = verifyWebhook('s', header, 'body', { now: (t + skew) * 1000 });
        expect(result.ok).toBe(Math.abs(skew) <= DEFAULT_TOLERANCE_SECONDS);
        if (!result.ok) expect(result.reason).toBe('timestampOutOfRange');
      }),
      { seed: 9006, numRuns: 300 },
    );
  });
});

describe('webhook target addresses', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
  ])('%s is %s, not public', (address, range) => {
    expect(addressRange(address)).toBe(range);
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is public', (address) => {
    expect(addressRange(address)).toBe('unicast');
    expect(isPublicAddress(address)).toBe(true);
  });

  it('every 10.0.0.0/8 and 127.0.0.0/8 address is refused, also IPv4-mapped', () => {
    fc.assert(
      fc.property(fc.constantFrom(10, 127), fc.nat(255), fc.nat(255), fc.nat(255), (first, b, c, d) => {
        const v4 = `${first}.${b}.${c}.${d}`;
        expect(isPublicAddress(v4)).toBe(false);
        expect(isPublicAddress(`::ffff:${v4}`)).toBe(false);
      }),
      { seed: 9007, numRuns: 100 },
    );
  });

  it('hostOf gives a bare name or IP literal', () => {
    expect(hostOf('https://Hooks.Partner.example:8443/pf?x=1')).toBe('hooks.partner.example');
    expect(hostOf('http://[::1]:3000/hook')).toBe('::1');
    expect(hostOf('http://127.0.0.1/hook')).toBe('127.0.0.1');
    // URL parsing normalises the tricks that hide a private address.
    expect(hostOf('http://0x7f.1/')).toBe('127.0.0.1');
    expect(hostOf('http://2130706433/')).toBe('127.0.0.1');
    expect(hostOf('http://[::ffff:7f00:1]/')).toBe('::ffff:7f00:1');
  });

  it('checkUrl refuses a non-public IP literal at registration, naming its range', async () => {
    const policy = createWebhookTargetPolicy({ allowPrivate: false });
    for (const url of ['http://127.0.0.1:3000/hook', 'http://[::1]/hook', 'http://169.254.169.254/latest/meta-data', 'http://0x7f.1/', 'http://[::ffff:7f00:1]/']) {
      const error = await policy.checkUrl(url).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error, url).toBeInstanceOf(WebhookTargetRefusedError);
      expect((error as Error).message).toMatch(/webhooks may only reach public addresses/);
    }
    const metadata = await policy.checkUrl('http://169.254.169.254/').catch((err: unknown) => err as WebhookTargetRefusedError);
    expect(metadata).toMatchObject({ host: '169.254.169.254', addresses: [{ address: '169.254.169.254', range: 'linkLocal' }] });
    await expect(policy.checkUrl('https://93.184.216.34/hook')).resolves.toBeUndefined();
  });

  it('checkUrl allows anything when private targets are allowed (local testing)', async () => {
    const policy = createWebhookTargetPolicy({ allowPrivate: true });
    expect(policy.allowPrivate).toBe(true);
    await expect(policy.checkUrl('http://127.0.0.1:3000/hook')).resolves.toBeUndefined();
  });

  it('the refusal says when a name does not resolve at all', () => {
    expect(new WebhookTargetRefusedError('nowhere.example', []).message).toBe('webhook target nowhere.example does not resolve');
  });
});
