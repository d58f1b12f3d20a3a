import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { configErrorOf } from '../support/configError.js';
import { TEST_PAYLOAD_KEY_ENV } from '../support/testConfig.js';

// loadConfig with an explicit environment: defaults, refusals naming the
// variable, and no secret ever repeated in an error. (The secrets themselves:
// test/unit/secrets.test.ts; DNS_SERVERS: test/dnsTxtLookup.test.ts.)

const secrets = {
  OPERATOR_TOKEN: 'op-0123456789abcdef0123',
  SESSION_SECRET: 'session-0123456789abcdef0123456789abcdef',
  LINK_SECRET: 'link-0123456789abcdef0123456789abcdef01',
  ...TEST_PAYLOAD_KEY_ENV,
};

const configError = (env: Record<string, string>) => configErrorOf({ ...secrets, ...env });

describe('loadConfig: defaults', () => {
  it('runs locally with nothing but the secrets', () => {
    expect(loadConfig(secrets)).toMatchObject({
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      PORT: 3000,
      PUBLIC_BASE_URL: 'http://localhost:3000',
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/partnerflow',
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: 'partnerflow',
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TLS: false,
      SMTP_URL: 'smtp://127.0.0.1:1025',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: false,
      WEBHOOK_ATTEMPTS: 12,
      ALLOW_SHORT_DURATIONS: false,
      RESEND_COOLDOWN_SECONDS: 600,
      RESENDS_PER_INVITATION: 5,
      AUTO_EXTEND_CHANGES_PER_RELATIONSHIP: 10,
    });
    expect(loadConfig(secrets).DNS_SERVERS).toBeUndefined();
  });

  it('reads numbers and flags from their strings', () => {
    const config = loadConfig({ ...secrets, PORT: '8080', MAIL_RATE_PER_SECOND: '5', TEMPORAL_TLS: '1', ALLOW_SHORT_DURATIONS: 'true', WEBHOOK_ALLOW_PRIVATE_TARGETS: '0' });
    expect(config).toMatchObject({ PORT: 8080, MAIL_RATE_PER_SECOND: 5, TEMPORAL_TLS: true, ALLOW_SHORT_DURATIONS: true, WEBHOOK_ALLOW_PRIVATE_TARGETS: false });
  });
});

describe('loadConfig: refusals name the variable', () => {
  it.each([
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'verbose'],
    ['PUBLIC_BASE_URL', 'partners.example.com'],
    ['PUBLIC_BASE_URL', 'ftp://partners.example.com'],
    ['DATABASE_URL', 'mysql://db.internal/partnerflow'],
    ['REDIS_URL', 'http://cache.internal:6379'],
    ['SMTP_URL', 'smtp.internal:25'],
    ['TEMPORAL_ADDRESS', 'temporal.internal'],
    ['TEMPORAL_ADDRESS', 'http://temporal.internal:7233'],
    ['QUEUE_PREFIX', 'partner flow'],
    ['QUEUE_PREFIX', 'a:b'],
    ['TEMPORAL_TLS', 'yes'],
    ['WEBHOOK_ATTEMPTS', '0'],
    ['WEBHOOK_ATTEMPTS', '51'],
    ['WEBHOOK_TIMEOUT_MS', '99'],
    ['MAIL_RATE_PER_SECOND', '1.5'],
    ['RESEND_COOLDOWN_SECONDS', '2592001'],
    ['SHUTDOWN_GRACE_MS', '120001'],
  ])('%s=%j', (variable, value) => {
    const error = configError({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
    // Nothing secret in these: the value is echoed, which helps find the typo.
    expect(error.message).toContain(`(got "${value}")`);
  });

  it('TLS certificate and key go together', () => {
    expect(configError({ TEMPORAL_TLS_CERT_PATH: '/etc/tls/cert.pem' }).message).toBe('TEMPORAL_TLS_CERT_PATH: and TEMPORAL_TLS_KEY_PATH must be set together');
    expect(configError({ TEMPORAL_TLS_KEY_PATH: '/etc/tls/key.pem' }).variable).toBe('TEMPORAL_TLS_CERT_PATH');
    expect(loadConfig({ ...secrets, TEMPORAL_TLS_CERT_PATH: '/c', TEMPORAL_TLS_KEY_PATH: '/k' }).TEMPORAL_TLS_KEY_PATH).toBe('/k');
  });

  it('a resend cooldown under a minute needs ALLOW_SHORT_DURATIONS', () => {
    expect(configError({ RESEND_COOLDOWN_SECONDS: '59' }).message).toBe('RESEND_COOLDOWN_SECONDS: must be at least 60 unless ALLOW_SHORT_DURATIONS=true');
    expect(loadConfig({ ...secrets, RESEND_COOLDOWN_SECONDS: '0', ALLOW_SHORT_DURATIONS: 'true' }).RESEND_COOLDOWN_SECONDS).toBe(0);
    expect(loadConfig({ ...secrets, RESEND_COOLDOWN_SECONDS: '60' }).RESEND_COOLDOWN_SECONDS).toBe(60);
  });

  it('a URL with credentials is named but never echoed', () => {
    const error = configError({ PUBLIC_BASE_URL: 'ftp://user:hunter2hunter2@partners.example.com' });
    expect(error.variable).toBe('PUBLIC_BASE_URL');
    expect(error.message).not.toContain('hunter2');
  });
});

describe('loadConfig: no secret in any error message', () => {
  const secretName = fc.constantFrom('OPERATOR_TOKEN', 'SESSION_SECRET', 'LINK_SECRET', 'TEMPORAL_API_KEY');
  // Values that are wrong for their variable: too short, or the wrong type of thing.
  const badValue = fc.string({ minLength: 4, maxLength: 15 }).filter((value) => value.trim().length >= 4);

  it('a too-short secret is refused without its value', () => {
    fc.assert(
      fc.property(fc.constantFrom('OPERATOR_TOKEN', 'SESSION_SECRET', 'LINK_SECRET'), badValue, (name, value) => {
        const error = configError({ [name]: value });
        expect(error.variable).toBe(name);
        expect(error.message).not.toContain(value);
      }),
      { seed: 10_001, numRuns: 200 },
    );
  });

  it('whatever else is wrong, the secrets in the environment never show', () => {
    const env = fc.record({
      PORT: fc.oneof(fc.constant('eighty'), fc.constant('3000')),
      REDIS_URL: fc.oneof(fc.constant('http://:pw-9f8e7d6c@cache:6379'), fc.constant('redis://127.0.0.1:6379')),
      RESEND_COOLDOWN_SECONDS: fc.oneof(fc.constant('5'), fc.constant('600')),
    });
    fc.assert(
      fc.property(secretName, fc.string({ minLength: 32, maxLength: 48 }).filter((v) => v.trim().length >= 32 && !v.includes('@')), env, (name, value, rest) => {
        try {
          loadConfig({ ...secrets, ...rest, [name]: value });
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          const message = (error as Error).message;
          for (const secret of [...Object.values(secrets), value, 'pw-9f8e7d6c']) expect(message).not.toContain(secret);
        }
      }),
      { seed: 10_002, numRuns: 200 },
    );
  });
});
