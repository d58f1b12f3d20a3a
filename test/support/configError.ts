import { ConfigError, loadConfig } from '../../src/config/config.js';

/** The ConfigError loadConfig throws for `env`; fails the test when it accepts it. */
export function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('loadConfig accepted the environment');
}
