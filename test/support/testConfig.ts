import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config/config.js';

// Configuration for a system a test or the bench starts in-process: fresh
// secrets every time (never a shared default), and the operator's settings for
// relationships that run in seconds and resend at once. The caller adds where
// its services are and what it names its queues; a caller may override any of it.
// (No vitest import: the bench uses it too.)

export function testConfig(env: Record<string, string>): Config {
  return loadConfig({
    NODE_ENV: 'test',
    OPERATOR_TOKEN: `operator-${randomBytes(12).toString('hex')}`,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    LINK_SECRET: randomBytes(32).toString('hex'),
    ALLOW_SHORT_DURATIONS: 'true',
    RESEND_COOLDOWN_SECONDS: '0',
    ...env,
  });
}
