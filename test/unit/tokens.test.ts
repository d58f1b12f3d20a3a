import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveLinkToken, linkFor, linkPaths, LinkSecretMismatchError, linkUrl, type LinkKind } from '../../src/infra/linkTokens.js';
import { constantTimeEqual, hashToken, newToken } from '../../src/infra/tokens.js';
import { renderableData } from '../../src/mail/renderLink.js';
import type { MailJob } from '../../src/mail/mailJob.js';

// Link tokens are derived (HMAC of kind and row id), stored only as sha256, and
// turned into URLs only when an email is rendered.

const secret = 'link-0123456789abcdef0123456789abcdef01';
const kinds = Object.keys(linkPaths) as LinkKind[];
const id = '7f1c2a0e-3b4d-4c5e-9f60-718293a4b5c6';

describe('tokens', () => {
  it('newToken: 32 random bytes as base64url by default', () => {
    const token = newToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newToken(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(new Set(Array.from({ length: 200 }, () => newToken())).size).toBe(200);
  });

  it('hashToken is hex sha256', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashToken('')).toBe(createHash('sha256').update('').digest('hex'));
  });

  it('constantTimeEqual is plain equality for any two strings, different lengths included', () => {
    expect(constantTimeEqual('pf_abc', 'pf_abc')).toBe(true);
    expect(constantTimeEqual('pf_abc', 'pf_abd')).toBe(false);
    expect(constantTimeEqual('pf_abc', 'pf_ab')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    // Same length in UTF-16, different in bytes: must not throw (timingSafeEqual would).
    expect(constantTimeEqual('é', 'e')).toBe(false);
    // Any UTF-16 code units, lone surrogates included; often the same string, or nearly.
    const text = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) });
    fc.assert(
      fc.property(text, fc.oneof(text, fc.constant(null)), (a, other) => {
        const b = other ?? a;
        expect(constantTimeEqual(a, b)).toBe(Buffer.from(a).equals(Buffer.from(b)));
        expect(constantTimeEqual(a, a)).toBe(true);
      }),
      { seed: 11_001, numRuns: 500 },
    );
  });
});

describe('link tokens', () => {
  it('are HMAC-SHA256(LINK_SECRET, "<kind>:<id>") in base64url', () => {
    expect(deriveLinkToken(secret, 'invitation', id)).toBe(createHmac('sha256', secret).update(`invitation:${id}`).digest('base64url'));
    expect(deriveLinkToken(secret, 'invitation', id)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('differ by kind, id and secret, so one row id never opens another kind of link', () => {
    const tokens = kinds.map((kind) => deriveLinkToken(secret, kind, id));
    expect(new Set(tokens).size).toBe(kinds.length);
    expect(deriveLinkToken(secret, 'signIn', `${id}x`)).not.toBe(deriveLinkToken(secret, 'signIn', id));
    expect(deriveLinkToken(`${secret}x`, 'signIn', id)).not.toBe(deriveLinkToken(secret, 'signIn', id));
  });

  it('linkFor: the same token again for the same row, the hash to store, and a reference that opens nothing', () => {
    const issued = linkFor(secret, 'signIn', id);
    expect(linkFor(secret, 'signIn', id)).toEqual(issued);
    expect(issued.tokenHash).toBe(hashToken(issued.token));
    expect(issued.ref).toEqual({ kind: 'signIn', id, path: '/sign-in/', check: issued.tokenHash.slice(0, 12) });
    expect(JSON.stringify(issued.ref)).not.toContain(issued.token);
    // A fresh row id when none is given.
    const fresh = linkFor(secret, 'invitation');
    expect(fresh.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(fresh.id).not.toBe(linkFor(secret, 'invitation').id);
  });

  it.each(kinds)('linkUrl for %s opens the page for its kind under the public base URL', (kind) => {
    const issued = linkFor(secret, kind, id);
    expect(linkUrl(secret, 'https://partners.example.com', issued.ref)).toBe(`https://partners.example.com${linkPaths[kind]}${issued.token}`);
  });

  it('linkUrl refuses a secret other than the one the row was made with, without showing a token', () => {
    const issued = linkFor(secret, 'adminInvite', id);
    const attempt = () => linkUrl('another-secret-0123456789abcdef0123', 'https://partners.example.com', issued.ref);
    expect(attempt).toThrow(LinkSecretMismatchError);
    expect(attempt).toThrow(`the adminInvite link ${id} was made with another LINK_SECRET; the API and the worker must share one`);
  });
});

describe('renderableData: the URL of a link email is derived when it is rendered', () => {
  const data = { customerName: 'Contoso Ltd', tenantDomain: 'contoso.example', expiresAt: '2025-12-01T09:30:00Z' };

  it('fills the template’s link field from the job’s reference', () => {
    const issued = linkFor(secret, 'signIn', id);
    const job = { template: 'signIn', to: 'admin@contoso.example', data, link: issued.ref } as MailJob;
    expect(renderableData(job, secret, 'https://partners.example.com')).toEqual({ ...data, signInUrl: `https://partners.example.com/sign-in/${issued.token}` });
    expect(() => renderableData(job, 'wrong-secret-0123456789abcdef0123456', 'https://partners.example.com')).toThrow(LinkSecretMismatchError);
  });

  it('leaves other emails, and link jobs queued by older versions with their URL, as they are', () => {
    const accepted = { template: 'accepted', to: 'ops@partner.example', data: { partnerName: 'P' } } as unknown as MailJob;
    expect(renderableData(accepted, secret, 'https://partners.example.com')).toBe(accepted.data);
    const old = { template: 'signIn', to: 'a@contoso.example', data: { ...data, signInUrl: 'https://old.example/sign-in/x' } } as unknown as MailJob;
    expect(renderableData(old, secret, 'https://partners.example.com')).toEqual({ ...data, signInUrl: 'https://old.example/sign-in/x' });
  });
});
