// The local demo DNS server, so domain proofs can be tried without owning a
// domain (`npm start` runs the same server unless DNS_SERVERS is set):
//
//   dns txt <name> <value>   add a TXT value to a name (a name may hold several)
//   dns rm <name>            remove a name and all its values
//   dns list                 show every record
//   dns serve [--port N]     answer on 127.0.0.1:N (default DEV_DNS_PORT or 5354), UDP and TCP
//
// Records live in .data/dns/records.json (DEV_DNS_RECORDS names another file),
// a JSON object of name → values. The server reads it on every query, so
// `txt`, `rm` and hand edits count at once, even while `npm start` runs.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { normalizeDnsName, startTxtServer, type TxtServer } from './devDns/txtServer.js';
import { projectRoot } from './start/paths.js';

export const DEV_DNS_HOST = '127.0.0.1';
export const DEFAULT_DEV_DNS_PORT = 5354;
export const defaultRecordsFile = path.join(projectRoot, '.data', 'dns', 'records.json');

/** Name (lower case, no trailing dot) → TXT values, in the order they were added. */
export type DnsRecords = Record<string, string[]>;

const USAGE = [
  'usage: npm run dns -- txt <name> <value>   add a TXT value',
  '       npm run dns -- rm <name>            remove a name',
  '       npm run dns -- list',
  `       npm run dns -- serve [--port N]     default DEV_DNS_PORT or ${DEFAULT_DEV_DNS_PORT}`,
].join('\n');

export class UsageError extends Error {}

function relative(file: string): string {
  const fromHere = path.relative(process.cwd(), file);
  return fromHere && !fromHere.startsWith('..') ? fromHere : file;
}

export function recordsFileFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.DEV_DNS_RECORDS ? path.resolve(env.DEV_DNS_RECORDS) : defaultRecordsFile;
}

function parsePort(text: string, what: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new UsageError(`${what}: must be a port number 1-65535 (got "${text}")`);
  return port;
}

export function devDnsPortFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.DEV_DNS_PORT;
  return raw === undefined || raw === '' ? DEFAULT_DEV_DNS_PORT : parsePort(raw, 'DEV_DNS_PORT');
}

// Labels of letters, digits, '-' and '_' (for _partnerflow-challenge): what a
// person means to publish; anything else is a typo worth stopping.
function checkedName(name: string): string {
  const normalized = normalizeDnsName(name);
  const labels = normalized.split('.');
  if (normalized.length > 253 || !labels.every((label) => /^[a-z0-9_-]{1,63}$/.test(label))) {
    throw new UsageError(`"${name}" is not a DNS name (labels of letters, digits, - and _, separated by dots)`);
  }
  return normalized;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** The records in `file`; none when it does not exist yet. Names in the file may be in any case. */
export async function readRecords(file: string): Promise<DnsRecords> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return {};
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${relative(file)}: not valid JSON (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${relative(file)}: want a JSON object of name → ["value", …]`);
  }
  const records: DnsRecords = {};
  for (const [name, values] of Object.entries(parsed)) {
    if (!isStringArray(values)) throw new Error(`${relative(file)}: the values of "${name}" must be a list of strings`);
    const key = normalizeDnsName(name);
    records[key] = [...(records[key] ?? []), ...values];
  }
  return records;
}

// Write-then-rename, so a server reading on every query never sees half a file.
async function writeRecords(file: string, records: DnsRecords): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const sorted = Object.fromEntries(Object.entries(records).sort(([a], [b]) => a.localeCompare(b)));
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, `${JSON.stringify(sorted, null, 2)}\n`);
  await rename(temporary, file);
}

/** Adds `value` to `name`; false when the name already holds it. */
export async function addRecord(file: string, name: string, value: string): Promise<boolean> {
  const key = checkedName(name);
  if (value === '') throw new UsageError('give the TXT value, e.g. partnerflow-verification=abc123');
  const records = await readRecords(file);
  const values = records[key] ?? [];
  if (values.includes(value)) return false;
  records[key] = [...values, value];
  await writeRecords(file, records);
  return true;
}

/** Removes `name` and returns how many values it held. */
export async function removeRecord(file: string, name: string): Promise<number> {
  const key = checkedName(name);
  const records = await readRecords(file);
  const removed = records[key]?.length ?? 0;
  if (removed === 0) return 0;
  delete records[key];
  await writeRecords(file, records);
  return removed;
}

/**
 * The demo server: answers from `recordsFile` as it is at each query. `log`
 * gets one line per TXT query, and the reason when the file cannot be read
 * (the query then gets SERVFAIL, so the API reports DNS unavailable, not "no record").
 */
export async function startDevDnsServer(options: {
  port: number;
  host?: string;
  recordsFile: string;
  log?: (line: string) => void;
}): Promise<TxtServer> {
  const log = options.log ?? (() => undefined);
  const host = options.host ?? DEV_DNS_HOST;
  try {
    return await startTxtServer({
      host,
      port: options.port,
      records: async (name) => {
        let values: string[];
        try {
          values = (await readRecords(options.recordsFile))[name] ?? [];
        } catch (error) {
          log(`TXT ${name} → SERVFAIL: ${error instanceof Error ? error.message : String(error)}`);
          throw error;
        }
        log(`TXT ${name} → ${values.length === 0 ? 'NXDOMAIN' : `${values.length} value${values.length === 1 ? '' : 's'}`}`);
        return values;
      },
    });
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
      throw new Error(
        `port ${options.port} on ${host} (DNS) is already in use (another \`npm run dns -- serve\` or \`npm start\`?): stop it, pick another with DEV_DNS_PORT, or set DNS_SERVERS=${host}:${options.port} to use that server`,
        { cause: error },
      );
    }
    throw error;
  }
}

async function serve(file: string, args: string[]): Promise<void> {
  let port = devDnsPortFromEnv();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const inline = /^--port=(.*)$/.exec(arg);
    if (inline) port = parsePort(inline[1] ?? '', '--port');
    else if (arg === '--port' && args[i + 1] !== undefined) port = parsePort(args[++i] ?? '', '--port');
    else throw new UsageError(`serve: unexpected "${arg}"\n${USAGE}`);
  }
  const server = await startDevDnsServer({ port, recordsFile: file, log: (line) => console.log(line) });
  const address = `${server.host}:${server.port}`;
  console.log(`DNS server on ${address} (UDP and TCP), records from ${relative(file)}, read on every query`);
  console.log(`the API uses it with DNS_SERVERS=${address}; try: dig @${server.host} -p ${server.port} TXT <name>`);
  console.log('Ctrl-C stops it');
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function main(argv: string[]): Promise<void> {
  const file = recordsFileFromEnv();
  const [command, ...rest] = argv;
  if (command === 'txt' && rest.length === 2) {
    const [name = '', value = ''] = rest;
    const added = await addRecord(file, name, value);
    const key = normalizeDnsName(name);
    console.log(added ? `added TXT ${key} ${JSON.stringify(value)}` : `TXT ${key} already holds ${JSON.stringify(value)}`);
  } else if (command === 'rm' && rest.length === 1) {
    const name = rest[0] ?? '';
    const removed = await removeRecord(file, name);
    const key = normalizeDnsName(name);
    console.log(removed === 0 ? `no records for ${key}` : `removed ${key} (${removed} value${removed === 1 ? '' : 's'})`);
  } else if (command === 'list' && rest.length === 0) {
    const records = Object.entries(await readRecords(file));
    if (records.length === 0) console.log(`no records in ${relative(file)}`);
    for (const [name, values] of records) for (const value of values) console.log(`${name}  TXT ${JSON.stringify(value)}`);
  } else if (command === 'serve') {
    await serve(file, rest);
  } else {
    throw new UsageError(USAGE);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(error instanceof UsageError ? message : `error: ${message}`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  });
}
