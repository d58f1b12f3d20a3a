import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRecord, readRecords, removeRecord, startDevDnsServer, UsageError } from '../scripts/dns.js';
import { projectRoot } from '../scripts/start/paths.js';
import { TEST_PAYLOAD_KEY_ENV } from './support/testConfig.js';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { createTxtLookup } from '../src/tenants/dnsTxtLookup.js';
import { startTestDnsServer, type TestDnsServer } from './support/dnsServer.js';
import { useScratchFile } from './support/scratchFile.js';

describe('TXT lookup against a real DNS server', () => {
  let dns: TestDnsServer;
  beforeAll(async () => {
    dns = await startTestDnsServer();
  });
  afterAll(async () => {
    await dns.close();
  });

  it('finds a single value', async () => {
    dns.publish('_partnerflow-challenge.single.test', 'partnerflow-verification=abc123');
    const lookup = createTxtLookup({ servers: dns.servers });
    expect(await lookup('_partnerflow-challenge.single.test')).toEqual({ kind: 'found', values: ['partnerflow-verification=abc123'] });
  });

  it('finds several values on one name, in the order served', async () => {
    dns.publish('_partnerflow-challenge.several.test', 'v=spf1 -all');
    dns.publish('_partnerflow-challenge.several.test', 'partnerflow-verification=second');
    const lookup = createTxtLookup({ servers: dns.servers });
    expect(await lookup('_partnerflow-challenge.several.test')).toEqual({
      kind: 'found',
      values: ['v=spf1 -all', 'partnerflow-verification=second'],
    });
  });

  it('joins the chunks of a value longer than 255 bytes, multi-byte characters intact', async () => {
    const long = `partnerflow-verification=${'x'.repeat(300)}`;
    const multiByte = 'é'.repeat(200); // 400 bytes: the chunk boundary falls between characters
    dns.publish('long.test', long);
    dns.publish('long.test', multiByte);
    const lookup = createTxtLookup({ servers: dns.servers });
    expect(await lookup('long.test')).toEqual({ kind: 'found', values: [long, multiByte] });
  });

  it('finds a record set too big for one UDP reply (the resolver retries over TCP)', async () => {
    const values = Array.from({ length: 8 }, (_, i) => `${i}`.repeat(250));
    for (const value of values) dns.publish('big.test', value);
    const lookup = createTxtLookup({ servers: dns.servers });
    expect(await lookup('big.test')).toEqual({ kind: 'found', values });
  });

  it('reports none for a name with no record, and after it is unpublished', async () => {
    const lookup = createTxtLookup({ servers: dns.servers });
    expect(await lookup('_partnerflow-challenge.missing.test')).toEqual({ kind: 'none' });
    dns.publish('gone.test', 'here for a moment');
    expect((await lookup('gone.test')).kind).toBe('found');
    dns.unpublish('gone.test');
    expect(await lookup('gone.test')).toEqual({ kind: 'none' });
  });

  it('matches names case-insensitively and with a trailing dot', async () => {
    dns.publish('_Partnerflow-Challenge.MixedCase.test', 'partnerflow-verification=case');
    const lookup = createTxtLookup({ servers: dns.servers });
    const expected = { kind: 'found', values: ['partnerflow-verification=case'] };
    expect(await lookup('_partnerflow-challenge.mixedcase.test')).toEqual(expected);
    expect(await lookup('_PARTNERFLOW-CHALLENGE.MIXEDCASE.TEST.')).toEqual(expected);
  });

  describe('when DNS cannot be asked', () => {
    let silent: Socket;
    beforeAll(async () => {
      // Bound but never answering: queries vanish as they would behind a firewall.
      silent = createSocket('udp4');
      await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    it('reports unavailable with ETIMEOUT, soon, when nothing answers', async () => {
      const lookup = createTxtLookup({ servers: [`127.0.0.1:${silent.address().port}`], timeoutMs: 100 });
      const started = Date.now();
      expect(await lookup('_partnerflow-challenge.silent.test')).toEqual({ kind: 'unavailable', detail: 'ETIMEOUT' });
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    it('reports unavailable (not none) when the port is closed', async () => {
      const closed = createSocket('udp4');
      await new Promise<void>((resolve) => closed.bind(0, '127.0.0.1', resolve));
      const port = closed.address().port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const lookup = createTxtLookup({ servers: [`127.0.0.1:${port}`], timeoutMs: 100 });
      const result = await lookup('_partnerflow-challenge.closed.test');
      expect(result.kind).toBe('unavailable');
    });

    it('reports unavailable when the server fails (SERVFAIL: an unreadable records file)', async () => {
      const records = await mkdtemp(path.join(tmpdir(), 'partnerflow-dns-'));
      try {
        const file = path.join(records, 'records.json');
        await writeFile(file, '{ not json');
        const server = await startDevDnsServer({ port: 0, recordsFile: file });
        try {
          const lookup = createTxtLookup({ servers: [`${server.host}:${server.port}`], timeoutMs: 500 });
          expect(await lookup('any.test')).toEqual({ kind: 'unavailable', detail: 'ESERVFAIL' });
        } finally {
          await server.close();
        }
      } finally {
        await rm(records, { recursive: true, force: true });
      }
    });
  });
});

describe('DNS_SERVERS', () => {
  // loadConfig refuses to start without the secrets; these are only for parsing.
  const secrets = { OPERATOR_TOKEN: 'o'.repeat(16), SESSION_SECRET: 's'.repeat(32), LINK_SECRET: 'l'.repeat(32), ...TEST_PAYLOAD_KEY_ENV };
  const servers = (value: string) => loadConfig({ ...secrets, DNS_SERVERS: value }).DNS_SERVERS;

  it('is undefined when unset or blank: the system resolver', () => {
    expect(loadConfig(secrets).DNS_SERVERS).toBeUndefined();
    expect(servers('')).toBeUndefined();
    expect(servers('  ')).toBeUndefined();
  });

  it('parses ip, ip:port and [ipv6]:port entries, trimming spaces', () => {
    expect(servers(' 10.0.0.2 , 127.0.0.1:5354,[::1]:53, 2001:db8::53 ')).toEqual(['10.0.0.2', '127.0.0.1:5354', '[::1]:53', '2001:db8::53']);
  });

  it.each(['dns.example.com', '127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1:', '10.0.0.2,', '[10.0.0.2]:53', '[::1]', '300.1.1.1'])(
    'rejects %j naming the variable',
    (value) => {
      expect(() => servers(value)).toThrow(ConfigError);
      expect(() => servers(value)).toThrow(/^DNS_SERVERS: /);
    },
  );
});

describe('npm run dns: the records file', () => {
  const scratch = useScratchFile('partnerflow-dns-', 'dns/records.json');

  it('adds values once, lower-cases names, and removes a name', async () => {
    expect(await readRecords(scratch.file)).toEqual({});
    expect(await addRecord(scratch.file, '_partnerflow-challenge.Acme.test.', 'partnerflow-verification=one')).toBe(true);
    expect(await addRecord(scratch.file, '_partnerflow-challenge.acme.test', 'partnerflow-verification=one')).toBe(false);
    expect(await addRecord(scratch.file, '_partnerflow-challenge.acme.test', 'second')).toBe(true);
    expect(await readRecords(scratch.file)).toEqual({ '_partnerflow-challenge.acme.test': ['partnerflow-verification=one', 'second'] });
    expect(await removeRecord(scratch.file, '_PARTNERFLOW-challenge.acme.test')).toBe(2);
    expect(await removeRecord(scratch.file, '_partnerflow-challenge.acme.test')).toBe(0);
    expect(await readRecords(scratch.file)).toEqual({});
  });

  it('refuses names that are not DNS names', async () => {
    await expect(addRecord(scratch.file, 'bad name', 'x')).rejects.toThrow(UsageError);
    await expect(addRecord(scratch.file, 'a..b', 'x')).rejects.toThrow(UsageError);
  });

  it('serves the file as it is at each query', async () => {
    const server = await startDevDnsServer({ port: 0, recordsFile: scratch.file });
    try {
      const lookup = createTxtLookup({ servers: [`${server.host}:${server.port}`] });
      expect(await lookup('_partnerflow-challenge.live.test')).toEqual({ kind: 'none' });
      await addRecord(scratch.file, '_partnerflow-challenge.live.test', 'partnerflow-verification=live');
      expect(await lookup('_partnerflow-challenge.live.test')).toEqual({ kind: 'found', values: ['partnerflow-verification=live'] });
      // Hand edits count too, whatever case the person typed.
      await writeFile(scratch.file, JSON.stringify({ '_Partnerflow-Challenge.Live.test': ['edited'] }));
      expect(await lookup('_partnerflow-challenge.live.test')).toEqual({ kind: 'found', values: ['edited'] });
    } finally {
      await server.close();
    }
  });

  it('exits 2 with the usage on a bad command line', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/dns.ts', ...args], {
        cwd: projectRoot,
        env: { ...process.env, DEV_DNS_RECORDS: scratch.file },
        encoding: 'utf8',
      });
    const bogus = run('bogus');
    expect(bogus.status).toBe(2);
    expect(bogus.stderr).toContain('usage: npm run dns -- txt <name> <value>');
    expect(run('serve', '--port', 'x').status).toBe(2);
    const added = run('txt', '_partnerflow-challenge.cli.test', 'partnerflow-verification=cli');
    expect(added.status).toBe(0);
    expect(added.stdout).toContain('added TXT _partnerflow-challenge.cli.test "partnerflow-verification=cli"');
    expect(run('list').stdout).toContain('_partnerflow-challenge.cli.test  TXT "partnerflow-verification=cli"');
  });
});
