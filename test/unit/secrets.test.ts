import { createServer, type IncomingHttpHeaders } from 'node:http';
import { mkdtemp, rm, stat, writeFile, chmod, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runOperatorCli } from '../../src/operator/cli/operatorCli.js';
import { loadConfig } from '../../src/config/config.js';
import { TEST_PAYLOAD_KEY_ENV } from '../support/testConfig.js';
import { configErrorOf } from '../support/configError.js';
import { useScratchFile } from '../support/scratchFile.js';
import { ensureLocalSecrets, readLocalSecrets } from '../../src/config/localSecrets.js';

// No built-in secrets: every service refuses to start without each one, refuses
// the values earlier versions shipped, and never repeats a secret in its error.
// `npm start` makes local ones instead (ensureLocalSecrets), and the operator
// CLI finds the local operator token only for a local API.

const real = {
  OPERATOR_TOKEN: 'op-0123456789abcdef0123',
  SESSION_SECRET: 'session-0123456789abcdef0123456789abcdef',
  LINK_SECRET: 'link-0123456789abcdef0123456789abcdef01',
};
const PUBLISHED = {
  OPERATOR_TOKEN: 'dev-operator-token-change-me',
  SESSION_SECRET: 'dev-session-secret-change-me-0123456789abcdef',
  LINK_SECRET: 'dev-link-secret-change-me-0123456789abcdef',
};

// The payload key is not among the secrets checked here (test/unit/payloadKeysConfig.test.ts checks it).
const configError = (env: Record<string, string>) => configErrorOf({ ...TEST_PAYLOAD_KEY_ENV, ...env });

describe('loadConfig: secrets', () => {
  it('starts with all three secrets given', () => {
    expect(loadConfig({ ...TEST_PAYLOAD_KEY_ENV, ...real })).toMatchObject(real);
  });

  it.each(Object.keys(real) as (keyof typeof real)[])('refuses to start without %s, in one line naming it', (name) => {
    const { [name]: _missing, ...rest } = real;
    const error = configError(rest);
    expect(error.message).toBe(`${name}: is required (npm start generates one for local use)`);
    // Also in production and in tests: there is no environment where a default applies.
    expect(configError({ ...rest, NODE_ENV: 'production' }).variable).toBe(name);
    expect(configError({ ...rest, NODE_ENV: 'test' }).variable).toBe(name);
  });

  it.each(Object.keys(PUBLISHED) as (keyof typeof PUBLISHED)[])('refuses the published development value of %s without repeating it', (name) => {
    const error = configError({ ...real, [name]: PUBLISHED[name] });
    expect(error.variable).toBe(name);
    expect(error.message).toContain('published development value');
    expect(error.message).not.toContain(PUBLISHED[name]);
  });

  it('a secret that is too short is named, its value never shown', () => {
    const error = configError({ ...real, SESSION_SECRET: 'hunter2-short' });
    expect(error.message).toBe('SESSION_SECRET: must be at least 32 characters');
    expect(configError({ ...real, OPERATOR_TOKEN: 'tok-9z' }).message).not.toContain('tok-9z');
    expect(configError({ ...real, TEMPORAL_API_KEY: 42 as unknown as string }).message).not.toContain('42');
  });

  it('a bad URL that carries a password is named, the URL never shown', () => {
    const cases = {
      DATABASE_URL: 'mysql://app:db-pa55word@db.internal:3306/partnerflow',
      REDIS_URL: 'http://:redis-pa55word@cache.internal:6379',
      SMTP_URL: 'http://mailer:smtp-pa55word@relay.internal:465',
    };
    for (const [variable, value] of Object.entries(cases)) {
      const error = configError({ ...real, [variable]: value });
      expect(error.variable).toBe(variable);
      expect(error.message).not.toContain('pa55word');
      expect(error.message).not.toContain(value);
    }
    // A value with nothing secret in it is still echoed, which helps find the typo.
    expect(configError({ ...real, PORT: 'eighty' }).message).toContain('(got "eighty")');
  });
});

describe('ensureLocalSecrets: the npm start secrets file', () => {
  const scratch = useScratchFile('pf-secrets-', 'nested/secrets.json', { each: true });

  it('generates each secret once, into a file only its owner may read, and loadConfig accepts them', async () => {
    const first = ensureLocalSecrets(scratch.file, {});
    expect(first.generated).toEqual(['OPERATOR_TOKEN', 'SESSION_SECRET', 'LINK_SECRET', 'PAYLOAD_ENCRYPTION_KEYS', 'PAYLOAD_ENCRYPTION_KEY_ID']);
    expect((await stat(scratch.file)).mode & 0o777).toBe(0o600);
    expect(readLocalSecrets(scratch.file)).toEqual(first.secrets);
    expect(new Set(Object.values(first.secrets)).size).toBe(5);
    expect(() => loadConfig(first.secrets)).not.toThrow();

    const second = ensureLocalSecrets(scratch.file, {});
    expect(second.generated).toEqual([]);
    expect(second.secrets).toEqual(first.secrets);
  });

  it('a value in the environment wins and is not written to the file', async () => {
    const first = ensureLocalSecrets(scratch.file, { OPERATOR_TOKEN: real.OPERATOR_TOKEN });
    expect(first.secrets.OPERATOR_TOKEN).toBe(real.OPERATOR_TOKEN);
    expect(first.fromEnvironment).toEqual(['OPERATOR_TOKEN']);
    expect(first.generated).toEqual(['SESSION_SECRET', 'LINK_SECRET', 'PAYLOAD_ENCRYPTION_KEYS', 'PAYLOAD_ENCRYPTION_KEY_ID']);
    expect(await readFile(scratch.file, 'utf8')).not.toContain(real.OPERATOR_TOKEN);

    // Later without it: generated then, once; the stored others are reused; the environment still wins over the file.
    const second = ensureLocalSecrets(scratch.file, {});
    expect(second.generated).toEqual(['OPERATOR_TOKEN']);
    expect(second.secrets.SESSION_SECRET).toBe(first.secrets.SESSION_SECRET);
    expect(ensureLocalSecrets(scratch.file, { SESSION_SECRET: real.SESSION_SECRET }).secrets.SESSION_SECRET).toBe(real.SESSION_SECRET);
  });

  it('tightens a file whose mode was loosened, and names a damaged file without quoting it', async () => {
    ensureLocalSecrets(scratch.file, {});
    await chmod(scratch.file, 0o644);
    ensureLocalSecrets(scratch.file, {});
    expect((await stat(scratch.file)).mode & 0o777).toBe(0o600);

    await writeFile(scratch.file, '{"OPERATOR_TOKEN": "half-written-secret');
    expect(() => ensureLocalSecrets(scratch.file, {})).toThrow(/is not valid JSON/);
    expect(() => ensureLocalSecrets(scratch.file, {})).not.toThrow(/half-written-secret/);
  });
});

describe('npm run operator without OPERATOR_TOKEN', () => {
  let dir: string;
  let file: string;
  let seen: IncomingHttpHeaders[];
  let server: ReturnType<typeof createServer>;
  let url: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pf-cli-'));
    file = path.join(dir, 'secrets.json');
    seen = [];
    server = createServer((req, res) => {
      seen.push(req.headers);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ partners: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  const run = (env: Record<string, string>) => {
    const err: string[] = [];
    return runOperatorCli(['partners', 'list'], { env, out: () => undefined, err: (line) => err.push(line), localSecretsFile: file }).then((code) => ({ code, err }));
  };

  it('uses the token npm start keeps when the API is on this machine', async () => {
    const { secrets } = ensureLocalSecrets(file, {});
    expect((await run({ PARTNERFLOW_URL: url })).code).toBe(0);
    expect(seen.map((h) => h.authorization)).toEqual([`Bearer ${secrets.OPERATOR_TOKEN}`]);
    // OPERATOR_TOKEN, when set, wins.
    expect((await run({ PARTNERFLOW_URL: url, OPERATOR_TOKEN: real.OPERATOR_TOKEN })).code).toBe(0);
    expect(seen[1]?.authorization).toBe(`Bearer ${real.OPERATOR_TOKEN}`);
  });

  it('never sends the local token to another host, and says what is missing', async () => {
    ensureLocalSecrets(file, {});
    const remote = await run({ PARTNERFLOW_URL: 'http://partners.example.invalid' });
    expect(remote.code).toBe(2);
    expect(remote.err.join('\n')).toContain('OPERATOR_TOKEN is not set');
    await rm(file);
    const noFile = await run({ PARTNERFLOW_URL: url });
    expect(noFile.code).toBe(2);
    expect(noFile.err.join('\n')).toContain('has none (npm start writes it)');
    expect(seen).toEqual([]);
  });
});
