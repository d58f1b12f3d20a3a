import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { redactingSerializers, redactPaths, scrubText } from '../../src/infra/logRedaction.js';

// The pieces createLogger is built from, on their own. The logger as a whole
// (and a failing customer page) is in test/security/logRedaction.test.ts.

const token = () => randomBytes(32).toString('base64url');

describe('scrubText', () => {
  it.each([
    ['/invitations/', '/forward'],
    ['/sign-in/', ''],
    ['/tenants/verify/', '?x=1'],
    ['/tenant-admins/confirm/', '#top'],
  ])('replaces the token after %s, keeping what follows', (prefix, rest) => {
    const t = token();
    expect(scrubText(`GET ${prefix}${t}${rest} 500`)).toBe(`GET ${prefix}[token]${rest} 500`);
  });

  it('replaces secrets in query strings, whatever the case of the name', () => {
    expect(scrubText('/x?token=abc&page=2')).toBe('/x?token=[Redacted]&page=2');
    expect(scrubText('/x?page=2&API_KEY=abc#f')).toBe('/x?page=2&API_KEY=[Redacted]#f');
    expect(scrubText('/x?apikey=a&key=b&password=c&secret=d&code=e')).toBe('/x?apikey=[Redacted]&key=[Redacted]&password=[Redacted]&secret=[Redacted]&code=[Redacted]');
    expect(scrubText('/x?monkey=banana')).toBe('/x?monkey=banana');
  });

  it('replaces the password of a URL, keeping the user and host', () => {
    expect(scrubText('connect postgresql://app:s3cr3t@db.internal:5432/pf failed')).toBe('connect postgresql://app:[Redacted]@db.internal:5432/pf failed');
    expect(scrubText('redis://:pw@cache:6379')).toBe('redis://:[Redacted]@cache:6379');
    expect(scrubText('http://db.internal:5432/pf')).toBe('http://db.internal:5432/pf');
  });

  it('replaces bearer and basic credentials and partner and enforcer keys anywhere in text', () => {
    const key = `pf_${token()}`;
    expect(scrubText(`Authorization: Bearer ${key}`)).toBe('Authorization: Bearer [Redacted]');
    expect(scrubText('Authorization: Basic dXNlcjpwYXNz')).toBe('Authorization: Basic [Redacted]');
    expect(scrubText(`the key ${key} was revoked`)).toBe('the key pf_[Redacted] was revoked');
    // Key prefixes (10 characters) are shown on purpose and are not secrets.
    expect(scrubText('key pf_Ab3-_9z revoked')).toBe('key pf_Ab3-_9z revoked');
    // Enforcer keys too, with their own tag.
    const enforcerKey = `pfe_${token()}`;
    expect(scrubText(`the enforcer key ${enforcerKey} leaked`)).toBe('the enforcer key pfe_[Redacted] leaked');
    expect(scrubText('key pfe_Ab3-_9z revoked')).toBe('key pfe_Ab3-_9z revoked');
  });

  it('leaves ordinary text alone', () => {
    const text = 'relationship 7f1c2a0e accepted by the customer at /partner-relationships';
    expect(scrubText(text)).toBe(text);
  });

  it('no generated link token survives, wherever it sits in the text', () => {
    // Where a secret sits: [what comes before it, what may follow it].
    const placement = fc.constantFrom(
      ...['/invitations/', '/sign-in/', '/tenants/verify/', '/tenant-admins/confirm/', '/x?token=', 'Authorization: Bearer '].flatMap((lead) =>
        ['', ' ', '/x', '&a=1', '"', ', next'].map((after) => [lead, after] as const),
      ),
      ['postgres://app:', '@db.internal/pf'] as const,
      ['smtps://mailer:', '@relay.example:465'] as const,
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), placement, fc.stringMatching(/^[A-Za-z0-9_-]{20,64}$/), (before, [lead, after], secret) => {
        const line = scrubText(`${before} ${lead}${secret}${after}`);
        expect(line).not.toContain(secret);
      }),
      { seed: 12_001, numRuns: 500 },
    );
  });
});

describe('redactPaths', () => {
  it('covers each secret key at the top and under up to three parents', () => {
    expect(redactPaths).toContain('apiKey');
    expect(redactPaths).toContain('*.apiKey');
    expect(redactPaths).toContain('*.*.*.apiKey');
    expect(redactPaths).not.toContain('*.*.*.*.apiKey');
    // Keys that are not identifiers are bracketed below the top level.
    expect(redactPaths).toContain('set-cookie');
    expect(redactPaths).toContain('*["set-cookie"]');
    expect(redactPaths).toContain('*.*["x-api-key"]');
  });

  it('are valid pino paths that replace the values they name', () => {
    const lines: string[] = [];
    const log = pino({ base: undefined, redact: redactPaths }, { write: (line: string) => void lines.push(line) });
    const secret = token();
    log.info({ LINK_SECRET: secret, a: { password: secret, b: { 'set-cookie': secret, c: { authorization: secret } } }, keep: 'visible' });
    expect(lines.join('')).not.toContain(secret);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      LINK_SECRET: '[Redacted]',
      a: { password: '[Redacted]', b: { 'set-cookie': '[Redacted]', c: { authorization: '[Redacted]' } } },
      keep: 'visible',
    });
  });
});

describe('redactingSerializers', () => {
  it('scrub an error’s message and stack, keeping its type', () => {
    const t = token();
    const error = new TypeError(`GET /sign-in/${t} failed`);
    const serialized = redactingSerializers.err(error) as { type: string; message: string; stack: string };
    expect(serialized.type).toBe('TypeError');
    expect(serialized.message).toBe('GET /sign-in/[token] failed');
    expect(serialized.stack).not.toContain(t);
    expect(serialized.stack).toContain('/sign-in/[token]');
  });

  it('scrub strings under err, path and url, and pass anything else through', () => {
    expect(redactingSerializers.err('https://u:pw@host/')).toBe('https://u:[Redacted]@host/');
    expect(redactingSerializers.path('/invitations/abcdefghijklmnopqrstuv/forward')).toBe('/invitations/[token]/forward');
    expect(redactingSerializers.url('/x?secret=1')).toBe('/x?secret=[Redacted]');
    const object = { code: 42 };
    expect(redactingSerializers.err(object)).toBe(object);
    expect(redactingSerializers.path(undefined)).toBeUndefined();
  });
});
