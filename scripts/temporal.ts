import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SearchAttributeType } from '@temporalio/common';
import { searchAttributeKeys } from '../src/contract/searchAttributes.js';
import type { LineSink } from './start/output.js';
import { paint } from './start/output.js';
import { projectRoot } from './start/paths.js';
import { describeExit, DUPLICATE_SIGNAL_WINDOW_MS, spawnManaged, type ExitInfo, type ManagedProcess } from './start/processes.js';
import { abortWhen, isPortOpen, isTemporalServer, temporalAnswers, waitUntil } from './start/readiness.js';
import { findOrBuildTemporalCli, type Log } from './temporalCli.js';

export const defaultTemporalDbFile = path.join(projectRoot, '.data', 'temporal', 'temporal.db');

// The CLI's --search-attribute wants its own spelling of the SDK's types.
const cliTypeName: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export interface TemporalDevServerOptions {
  /** Frontend gRPC port; default TEMPORAL_PORT or 7233. */
  port?: number;
  /** Web UI port; default TEMPORAL_UI_PORT or 8233. */
  uiPort?: number;
  ip?: string;
  /** SQLite file that keeps workflows across restarts. */
  dbFile?: string;
  namespace?: string;
  /** The remote codec the Web UI calls to show encrypted payloads (the API's /codec). */
  codecEndpoint?: string;
  /** Progress messages from this function (building the CLI, waiting, ready). */
  log?: Log;
  /** The server's own output lines; default: written through unchanged. */
  onOutput?: LineSink;
  /** Called as soon as the process exists, before it is ready, so a caller can stop it. */
  onSpawn?: (proc: ManagedProcess) => void;
  /** Aborting while waiting for readiness stops the wait (the caller stops the process). */
  signal?: AbortSignal;
  readyTimeoutMs?: number;
  graceMs?: number;
}

export interface TemporalDevServer {
  process: ManagedProcess;
  /** host:port for TEMPORAL_ADDRESS. */
  address: string;
  uiUrl: string;
  dbFile: string;
  stop(): Promise<ExitInfo>;
}

function portFromEnv(variable: string, fallback: number, env: NodeJS.ProcessEnv): number {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${variable}: must be a port number 1-65535 (got "${raw}")`);
  }
  return port;
}

export function temporalPortsFromEnv(env: NodeJS.ProcessEnv = process.env): { port: number; uiPort: number } {
  return { port: portFromEnv('TEMPORAL_PORT', 7233, env), uiPort: portFromEnv('TEMPORAL_UI_PORT', 8233, env) };
}

export function temporalDevServerArgs(options: {
  dbFile: string;
  ip: string;
  port: number;
  uiPort: number;
  namespace: string;
  codecEndpoint?: string;
}): string[] {
  return [
    'server',
    'start-dev',
    '--db-filename',
    options.dbFile,
    '--ip',
    options.ip,
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    // Measured about 10x the throughput of SQLite's defaults (PLATFORM.md).
    '--sqlite-pragma',
    'journal_mode=WAL',
    '--sqlite-pragma',
    'synchronous=NORMAL',
    // An activity a workflow task schedules is handed back with that task's answer to the worker
    // that ran it (the SDK asks for it by default), skipping a trip through the task queue: the
    // onboarding bench measured each activity's queue wait fall from about 30 ms to 0 under load.
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    ...searchAttributeKeys.flatMap((key) => ['--search-attribute', `${key.name}=${cliTypeName[key.type]}`]),
    ...(options.codecEndpoint ? ['--ui-codec-endpoint', options.codecEndpoint] : []),
  ];
}

async function assertPortFree(ip: string, port: number, what: string): Promise<void> {
  if (!(await isPortOpen(ip, port))) return;
  if (what === 'gRPC' && (await isTemporalServer(`${ip}:${port}`))) {
    throw new Error(
      `a Temporal server is already running on ${ip}:${port} (another \`npm run temporal\` or \`npm start\`?): stop it, or pick another port with TEMPORAL_PORT / TEMPORAL_UI_PORT`,
    );
  }
  throw new Error(`port ${port} on ${ip} (Temporal ${what}) is already in use: free it or set ${what === 'gRPC' ? 'TEMPORAL_PORT' : 'TEMPORAL_UI_PORT'}`);
}

/** Starts `temporal server start-dev` and resolves once the frontend and namespace answer. */
export async function startTemporalDevServer(options: TemporalDevServerOptions = {}): Promise<TemporalDevServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const fromEnv = options.port === undefined || options.uiPort === undefined ? temporalPortsFromEnv() : undefined;
  const port = options.port ?? fromEnv?.port ?? 7233;
  const uiPort = options.uiPort ?? fromEnv?.uiPort ?? 8233;
  const ip = options.ip ?? '127.0.0.1';
  const namespace = options.namespace ?? 'default';
  const dbFile = options.dbFile ?? defaultTemporalDbFile;
  const address = `${ip}:${port}`;
  const uiUrl = `http://localhost:${uiPort}`;

  await assertPortFree(ip, port, 'gRPC');
  await assertPortFree(ip, uiPort, 'Web UI');
  const cli = await findOrBuildTemporalCli(log);
  options.signal?.throwIfAborted();
  await fs.mkdir(path.dirname(dbFile), { recursive: true });

  const proc = spawnManaged({
    name: 'temporal',
    command: cli,
    args: temporalDevServerArgs({ dbFile, ip, port, uiPort, namespace, ...(options.codecEndpoint ? { codecEndpoint: options.codecEndpoint } : {}) }),
    cwd: projectRoot,
    env: process.env,
    onLine: options.onOutput ?? ((line, stream) => (stream === 'stderr' ? process.stderr : process.stdout).write(`${line}\n`)),
    graceMs: options.graceMs ?? 15_000,
  });
  options.onSpawn?.(proc);

  const died = abortWhen(
    proc.exited,
    () =>
      new Error(
        `the Temporal dev server stopped before it was ready: it ${proc.exit ? describeExit(proc.exit) : 'exited'} (see its output above)`,
      ),
    options.signal,
  );

  const ready = await waitUntil(() => temporalAnswers(address, namespace), {
    timeoutMs: options.readyTimeoutMs ?? 120_000,
    intervalMs: 300,
    signal: died,
    onProgress: (elapsed) => log(`waiting for the Temporal dev server at ${address}… ${Math.round(elapsed / 1_000)}s`),
  });
  if (!ready) {
    throw new Error(`the Temporal dev server did not answer at ${address} within ${Math.round((options.readyTimeoutMs ?? 120_000) / 1_000)}s`);
  }
  return { process: proc, address, uiUrl, dbFile, stop: () => proc.stop() };
}

// `npm run temporal`: the dev server in the foreground until Ctrl-C.
async function runForeground(): Promise<void> {
  const log = (line: string) => process.stderr.write(`${paint('temporal', 'magenta')} ${line}\n`);
  let proc: ManagedProcess | undefined;
  let firstSignalAt: number | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (!proc) process.exit(130);
    // The child has its own process group, so it only hears what is forwarded;
    // a second Ctrl-C (not the duplicate npm relays) means "now".
    if (firstSignalAt === undefined) {
      firstSignalAt = Date.now();
      proc.markStopping();
      proc.signal(sig);
    } else if (Date.now() - firstSignalAt >= DUPLICATE_SIGNAL_WINDOW_MS) {
      proc.signal('SIGKILL');
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const server = await startTemporalDevServer({
      log,
      onSpawn: (p) => {
        proc = p;
      },
    });
    log(`ready: gRPC ${server.address} · Web UI ${server.uiUrl} · data ${path.relative(process.cwd(), server.dbFile) || server.dbFile}`);
    log('press Ctrl-C to stop (workflows are kept in the data file)');
  } catch (error) {
    if (proc?.stopping) {
      // Interrupted while starting: not an error worth reporting.
    } else {
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      if (proc) await proc.stop();
      process.exit(1);
    }
  }
  if (!proc) return;
  const exit = await proc.exited;
  if (!proc.stopping) log(`the dev server ${describeExit(exit)}`);
  // Stopped on request counts as success whatever code the server chose.
  process.exit(proc.stopping ? 0 : (exit.code ?? 1));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void runForeground();
}
