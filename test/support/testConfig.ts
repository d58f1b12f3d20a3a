import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config/config.js';

// Configuration for a system a test or the bench starts in-process: fresh
// secrets every time (never a shared default), and the operator's settings for
// relationships that run in seconds and resend at once. The caller adds where
// its services are and what it names its queues; a caller may override any of it.
// (No vitest import: the bench uses it too.)

/**
 * The payload encryption key of tests and the bench. Fixed, unlike the secrets below, so that a
 * history recorded by a test run (npm run histories:record) replays in a later one
 * (test/replay.test.ts). It is public: a deployment must never use it.
 */
export const TEST_PAYLOAD_KEY_ENV = {
  PAYLOAD_ENCRYPTION_KEYS: `test-2026-12:${Buffer.from('partnerflow test payload key 32b').toString('base64')}`,
  PAYLOAD_ENCRYPTION_KEY_ID: 'test-2026-12',
} as const;

export function testConfig(env: Record<string, string>): Config {
  return loadConfig({
    NODE_ENV: 'test',
    OPERATOR_TOKEN: `operator-${randomBytes(12).toString('hex')}`,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    LINK_SECRET: randomBytes(32).toString('hex'),
    ALLOW_SHORT_DURATIONS: 'true',
    RESEND_COOLDOWN_SECONDS: '0',
    // Off: systems of different test files share one database, and each would sweep the others' rows.
    OUTBOX_SWEEP_INTERVAL_SECONDS: '0',
    ...TEST_PAYLOAD_KEY_ENV,
    ...env,
  });
}
