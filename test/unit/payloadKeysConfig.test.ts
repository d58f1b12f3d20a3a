import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { configErrorOf } from '../support/configError.js';

// PAYLOAD_ENCRYPTION_KEYS and PAYLOAD_ENCRYPTION_KEY_ID are checked at start-up:
// no default, 32-byte keys, the current id listed, and no key in any message.

const secrets = {
  OPERATOR_TOKEN: 'op-0123456789abcdef0123',
  SESSION_SECRET: 'session-0123456789abcdef0123456789abcdef',
  LINK_SECRET: 'link-0123456789abcdef0123456789abcdef01',
};
const key = randomBytes(32).toString('base64');
const other = randomBytes(32).toString('base64');

describe('payload encryption keys in the configuration', () => {
  it('parses id:base64key entries; the current id picks the key that encrypts', () => {
    const config = loadConfig({ ...secrets, PAYLOAD_ENCRYPTION_KEYS: ` old:${key} , new:${other}`, PAYLOAD_ENCRYPTION_KEY_ID: 'new' });
    expect([...config.PAYLOAD_ENCRYPTION_KEYS.keys()]).toEqual(['old', 'new']);
    expect(config.PAYLOAD_ENCRYPTION_KEYS.get('new')?.toString('base64')).toBe(other);
    // A config object that reaches a log or JSON shows no key.
    expect(JSON.stringify(config)).not.toContain(key);
    expect(JSON.stringify(config)).not.toContain(other);
  });

  it('has no default anywhere', () => {
    expect(configErrorOf({ ...secrets, PAYLOAD_ENCRYPTION_KEY_ID: 'a' }).message).toBe('PAYLOAD_ENCRYPTION_KEYS: is required (npm start generates one for local use)');
    expect(configErrorOf({ ...secrets, NODE_ENV: 'production', PAYLOAD_ENCRYPTION_KEYS: `a:${key}` }).variable).toBe('PAYLOAD_ENCRYPTION_KEY_ID');
  });

  it.each([
    ['a key that is not 32 bytes', `a:${randomBytes(16).toString('base64')}`, 'key "a" must be 32 bytes'],
    ['an entry without an id', key, 'not id:base64key'],
    ['an id with a space', `a b:${key}`, 'not id:base64key'],
    ['a key that is not base64', `a:${'!'.repeat(44)}`, 'key "a" must be 32 bytes'],
    ['an id listed twice', `a:${key},a:${other}`, 'lists key "a" twice'],
    ['no entry at all', ' , ', 'lists no key'],
  ])('refuses %s, naming the variable and never the key', (_what, value, message) => {
    const error = configErrorOf({ ...secrets, PAYLOAD_ENCRYPTION_KEYS: value, PAYLOAD_ENCRYPTION_KEY_ID: 'a' });
    expect(error.variable).toBe('PAYLOAD_ENCRYPTION_KEYS');
    expect(error.message).toContain(message);
    expect(error.message).not.toContain(key);
    expect(error.message).not.toContain(other);
    expect(error.message).not.toContain('!!!!');
  });

  it('refuses a current id that is not among the keys', () => {
    const error = configErrorOf({ ...secrets, PAYLOAD_ENCRYPTION_KEYS: `old:${key}`, PAYLOAD_ENCRYPTION_KEY_ID: 'new' });
    expect(error.message).toBe('PAYLOAD_ENCRYPTION_KEY_ID: "new" is not a key id of PAYLOAD_ENCRYPTION_KEYS (old)');
  });
});
