import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { challengeRecordName, domainSchema, emailAddressSchema, tenantNameSchema } from '../../src/tenants/tenantIdentifiers.js';
import { displayNameSchema } from '../../src/validation/text.js';

// One spelling per domain, so "Contoso.COM.", "contoso.com" and an IDN's Unicode
// and punycode forms can never become two tenants.

const DOMAIN_MESSAGE = 'must be a domain name like contoso.com';

describe('domainSchema: normalisation', () => {
  it.each([
    ['contoso.com', 'contoso.com'],
    ['Contoso.COM', 'contoso.com'],
    ['contoso.com.', 'contoso.com'],
    ['Contoso.COM.', 'contoso.com'],
    ['  contoso.com  ', 'contoso.com'],
    ['mail.eu.contoso.com', 'mail.eu.contoso.com'],
    ['1.2.3.com', '1.2.3.com'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['BÜCHER.example.', 'xn--bcher-kva.example'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['пример.рф', 'xn--e1afmkfd.xn--p1ai'],
    ['xn--e1afmkfd.xn--p1ai', 'xn--e1afmkfd.xn--p1ai'],
    ['ＣＯＮＴＯＳＯ.com', 'contoso.com'],
    [`${'x'.repeat(63)}.com`, `${'x'.repeat(63)}.com`],
  ])('%j is keyed as %j', (input, expected) => {
    expect(domainSchema.parse(input)).toBe(expected);
  });

  it.each([
    ['an IPv4 address', '127.0.0.1'],
    ['an IPv4 address with a trailing dot', '10.0.0.1.'],
    ['an IPv6 literal', '[::1]'],
    ['a bare IPv6 address', '::1'],
    ['an underscore label', '_dmarc.contoso.com'],
    ['an underscore inside a label', 'con_toso.com'],
    ['a single label', 'contoso'],
    ['two trailing dots', 'contoso.com..'],
    ['an empty label', 'a..b.com'],
    ['a leading hyphen', '-contoso.com'],
    ['a trailing hyphen', 'contoso-.com'],
    ['a numeric top-level domain', 'contoso.123'],
    ['a one-letter top-level domain', 'contoso.c'],
    ['a label over 63 characters', `${'x'.repeat(64)}.com`],
    ['invalid punycode', 'xn--zz--.com'],
    ['truncated punycode', 'xn--a.com'],
    ['a path', 'contoso.com/<b>'],
    ['a query', 'contoso.com?x=1'],
    ['a fragment', 'contoso.com#top'],
    ['a port', 'contoso.com:443'],
    ['user info', 'admin@contoso.com'],
    ['a backslash', 'contoso.com\\evil.example'],
    ['a percent escape', 'contoso%2ecom'],
    ['a space inside', 'con toso.com'],
    ['a right-to-left override', 'moc.\u202Econtoso.com'],
    ['a left-to-right mark', 'contoso\u200E.com'],
    ['a zero-width joiner', 'con\u200Dtoso.com'],
    ['a control character', 'contoso\u0000.com'],
    ['empty', ''],
    ['blank', '   '],
  ])('refuses %s', (_label, input) => {
    const result = domainSchema.safeParse(input);
    expect(result.success, JSON.stringify(result.data)).toBe(false);
    expect(result.error?.issues[0]?.message).toBe(DOMAIN_MESSAGE);
  });

  it('refuses a name longer than 253 characters, however its labels are cut', () => {
    const labels = Array.from({ length: 5 }, () => 'x'.repeat(50));
    expect(domainSchema.safeParse(`${labels.join('.')}.com`).success).toBe(false); // 5 × 51 + 3 = 258
    expect(domainSchema.parse(`${labels.slice(0, 4).join('.')}.${'y'.repeat(45)}.com`)).toHaveLength(253);
    expect(domainSchema.safeParse('x'.repeat(301)).error?.issues[0]?.message).toBe('must be at most 253 characters');
  });

  // Labels mixing ASCII, upper case and a few non-ASCII letters, so punycode is exercised too.
  const label = fc
    .array(fc.constantFrom(...'abcxyzABCXYZ0189-', 'ä', 'ö', 'ü', 'é', 'ñ', 'Ä', 'Ü', 'я', 'Д'), { minLength: 1, maxLength: 20 })
    .map((chars) => chars.join(''));
  const candidate = fc
    .tuple(fc.array(label, { minLength: 1, maxLength: 4 }), fc.constantFrom('com', 'example', 'ORG', 'рф', 'Io'), fc.boolean())
    .map(([labels, tld, dot]) => `${labels.join('.')}.${tld}${dot ? '.' : ''}`);

  it('normalising is idempotent: a keyed domain is keyed as itself', () => {
    let accepted = 0;
    fc.assert(
      fc.property(candidate, (input) => {
        const first = domainSchema.safeParse(input);
        if (!first.success) return;
        accepted += 1;
        expect(domainSchema.parse(first.data)).toBe(first.data);
        // Lower case, ASCII, no trailing dot.
        expect(first.data).toMatch(/^[a-z0-9.-]+$/);
        expect(first.data.endsWith('.')).toBe(false);
      }),
      { seed: 8001, numRuns: 500 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it('case and a trailing dot never make a second key', () => {
    fc.assert(
      fc.property(candidate, (input) => {
        const keyed = domainSchema.safeParse(input);
        if (!keyed.success) return;
        const bare = input.endsWith('.') ? input.slice(0, -1) : input;
        for (const variant of [bare, `${bare}.`, bare.toUpperCase(), bare.toLowerCase(), ` ${bare} `]) {
          expect(domainSchema.parse(variant), variant).toBe(keyed.data);
        }
      }),
      { seed: 8002, numRuns: 300 },
    );
  });

  it('generated valid names are accepted and kept in lower case', () => {
    fc.assert(
      fc.property(fc.domain(), (domain) => {
        const result = domainSchema.safeParse(domain);
        // fc.domain() can make names of up to 255 characters and one-letter TLDs; anything else must pass.
        if (domain.length <= 253 && /\.[a-z]{2,63}$/.test(domain)) expect(result.data, domain).toBe(domain.toLowerCase());
      }),
      { seed: 8003, numRuns: 200 },
    );
  });
});

describe('emailAddressSchema', () => {
  it('trims and lower-cases, so one address is one admin', () => {
    expect(emailAddressSchema.parse('  M.Jones@Contoso.EXAMPLE ')).toBe('m.jones@contoso.example');
  });

  it.each(['not-an-address', 'a@b', 'Mallory <mallory@evil.example>', 'a@contoso.example\r\nBcc: x@evil.example', '@contoso.example', 'a b@contoso.example'])(
    'refuses %j',
    (value) => {
      expect(emailAddressSchema.safeParse(value).success).toBe(false);
    },
  );

  it('refuses more than 254 characters', () => {
    expect(emailAddressSchema.safeParse(`${'x'.repeat(64)}@${'y'.repeat(190)}.example`).error?.issues[0]?.message).toBe('must be at most 254 characters');
  });
});

describe('tenant names and challenge records', () => {
  it('a tenant name is a display name', () => {
    expect(tenantNameSchema).toBe(displayNameSchema);
    expect(tenantNameSchema.safeParse('Contoso\u202E Ltd').success).toBe(false);
  });

  it('the challenge record sits under _partnerflow-challenge', () => {
    expect(challengeRecordName('contoso.example')).toBe('_partnerflow-challenge.contoso.example');
  });
});
