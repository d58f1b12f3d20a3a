import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startTemporalDevServer, type TemporalDevServer } from '../../scripts/temporal.js';
import { ensureDatabase, runMigrations } from '../../src/infra/migrationRunner.js';
import { freePort } from '../support/freePort.js';
import { waitFor } from '../support/waitFor.js';

// Private instances of every service the chaos suite stops and starts at will:
// its own PostgreSQL server (initdb/pg_ctl), Redis with an append-only file, and
// a Temporal dev server with a file database, each on a free port with its data
// in one temp directory. Never the shared services other tests and people use.

const run = promisify(execFile);
const PG_BIN = '/usr/lib/postgresql/15/bin';

/** PostgreSQL's tools refuse to run as root: as the postgres user, in a shell. */
async function asPostgres(command: string): Promise<string> {
  const { stdout } = await run('su', ['postgres', '-c', command], { timeout: 120_000 });
  return stdout;
}

export interface PrivatePostgres {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startPrivatePostgres(dir: string): Promise<PrivatePostgres> {
  const pgDir = path.join(dir, 'postgres');
  mkdirSync(pgDir, { recursive: true });
  const { uid, gid } = await run('id', ['postgres']).then(({ stdout }) => ({
    uid: Number(/uid=(\d+)/.exec(stdout)?.[1]),
    gid: Number(/gid=(\d+)/.exec(stdout)?.[1]),
  }));
  chownSync(pgDir, uid, gid);
  chmodSync(dir, 0o755);
  const port = await freePort();
  const data = path.join(pgDir, 'data');
  await asPostgres(`${PG_BIN}/initdb -D ${data} -A trust -U postgres >/dev/null`);
  const ctl = (args: string) => asPostgres(`${PG_BIN}/pg_ctl -D ${data} ${args}`);
  const start = async () => {
    await ctl(`-o "-p ${port} -k ${pgDir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" -l ${pgDir}/log -w start >/dev/null`);
  };
  await start();
  const url = `postgresql://postgres@127.0.0.1:${port}/partnerflow_chaos`;
  await ensureDatabase(url);
  await runMigrations(url);
  return {
    url,
    start,
    // Fast shutdown: open connections are cut, as when the server goes away under load.
    stop: async () => {
      await ctl('-m fast -w stop >/dev/null');
    },
  };
}

export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startPrivateRedis(dir: string): Promise<PrivateRedis> {
  const redisDir = path.join(dir, 'redis');
  mkdirSync(redisDir, { recursive: true });
  const port = await freePort();
  const cli = (...args: string[]) => run('redis-cli', ['-p', String(port), ...args]);
  const start = async () => {
    await run('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--dir', redisDir, '--daemonize', 'yes', '--logfile', path.join(redisDir, 'log')]);
    await waitFor(async () => (await cli('ping')).stdout.trim() === 'PONG', { what: 'the private Redis to answer', timeoutMs: 20_000, intervalMs: 100 });
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    // Whatever is not in the append-only file is lost, as in a crash.
    stop: async () => {
      await cli('shutdown', 'nosave').catch(() => undefined);
      await waitFor(async () => (await cli('ping').then(() => false, () => true)), { what: 'the private Redis to stop', timeoutMs: 20_000, intervalMs: 100 });
    },
  };
}

export interface PrivateTemporal {
  address: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startPrivateTemporal(dir: string, log: (line: string) => void): Promise<PrivateTemporal> {
  const port = await freePort();
  const uiPort = await freePort();
  const dbFile = path.join(dir, 'temporal', 'temporal.db');
  let server: TemporalDevServer | undefined;
  const start = async () => {
    server = await startTemporalDevServer({ port, uiPort, dbFile, log, onOutput: () => undefined, graceMs: 10_000 });
  };
  await start();
  return {
    address: `127.0.0.1:${port}`,
    start,
    stop: async () => {
      await server?.stop();
      server = undefined;
    },
  };
}

/** A temp directory for one run's services, removed by `remove()`. */
export function chaosDirectory() {
  const dir = mkdtempSync(path.join(tmpdir(), 'partnerflow-chaos-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
