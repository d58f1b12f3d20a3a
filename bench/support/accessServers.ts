import { freePort } from '../../test/support/freePort.js';
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../src/config/projectRoot.js';
import type { BenchEnvironment } from './benchEnvironment.js';
import type { Cleanup } from './cleanup.js';
import { TEST_PAYLOAD_KEY_ENV } from '../../test/support/testConfig.js';
import type { LoadJob, LoadResult } from './accessLoad.js';

// The three processes of bench/access.ts besides itself: the floor server, the
// project's compiled API (as a deployment runs it) and the load generator. Each
// is registered with the Cleanup as soon as it is spawned.

const here = path.join(projectRoot, 'bench', 'support');
export const apiEntry = path.join(projectRoot, 'dist', 'src', 'system', 'apiMain.js');

/** Stops a child: SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A TypeScript module of bench/support in a node process of its own, with an IPC channel. */
function forkSupport(cleanup: Cleanup, file: string, env: NodeJS.ProcessEnv, what: string): ChildProcess {
  const child = fork(path.join(here, file), [], {
    cwd: projectRoot,
    env,
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanup.defer(`stop the ${what} (pid ${child.pid})`, () => stopChild(child));
  return child;
}

/** The child's next message that `wanted` accepts. */
function firstMessage<T>(child: ChildProcess, what: string, timeoutMs: number, wanted: (message: T) => boolean = () => true): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('message', onMessage);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`${what} exited (code ${code})`));
    };
    const onMessage = (message: T) => {
      if (!wanted(message)) return;
      done();
      resolve(message);
    };
    child.on('exit', onExit);
    child.on('message', onMessage);
  });
}

export async function startFloor(cleanup: Cleanup, databaseUrl: string, poolSize: number): Promise<{ baseUrl: string; pid: number }> {
  const child = forkSupport(cleanup, 'accessFloor.ts', { PATH: process.env.PATH, DATABASE_URL: databaseUrl, FLOOR_POOL_SIZE: String(poolSize) }, 'floor server');
  const { port } = await firstMessage<{ port: number }>(child, 'the floor server', 30_000);
  return { baseUrl: `http://127.0.0.1:${port}`, pid: child.pid ?? 0 };
}

let ticksPerSecond: number | undefined;

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux); NaN where there is none. */
export function cpuMsOf(pid: number): number {
  try {
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "pid (comm) ": state is field 3, utime 14 and stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

/** Counters read when a job's measured window opens and when it ends (the server's CPU time, say). */
export type Probe = () => Promise<Record<string, number>>;

export interface LoadGenerator {
  /** Runs one job; `probe`'s counters over the measured window (warm-up excluded) come back as `deltas`. */
  run(job: LoadJob, probe: Probe): Promise<LoadResult & { deltas: Record<string, number> }>;
}

export function startLoadGenerator(cleanup: Cleanup): LoadGenerator {
  const child = forkSupport(cleanup, 'accessLoad.ts', { PATH: process.env.PATH }, 'load generator');
  return {
    async run(job, probe) {
      let atStart: Promise<Record<string, number>> | undefined;
      const onMessage = (message: { measuring?: boolean }) => {
        if (message.measuring) atStart = probe();
      };
      child.on('message', onMessage);
      try {
        const answer = firstMessage<{ result?: LoadResult; error?: string; measuring?: boolean }>(
          child,
          'the load generator',
          job.warmupMs + job.durationMs + 60_000,
          (message) => !message.measuring,
        );
        child.send(job);
        const { result, error } = await answer;
        if (!result) throw new Error(`load generator: ${error ?? 'no result'}`);
        const [before, after] = await Promise.all([atStart ?? Promise.resolve<Record<string, number>>({}), probe()]);
        const deltas = Object.fromEntries(Object.entries(after).map(([name, value]) => [name, value - (before[name] ?? Number.NaN)]));
        return { ...result, deltas };
      } finally {
        child.off('message', onMessage);
      }
    },
  };
}

export interface ApiSettings {
  /** ACCESS_CHECKS_PER_PARTNER: the check budget each partner gets per minute. */
  checksPerPartner: number;
  /** A directory: run the API with --cpu-prof there (the profile is written when it exits). */
  cpuProfileDir?: string;
  name: string;
}

export interface ApiProcess {
  baseUrl: string;
  pid: number;
  /** SIGTERM and wait for the exit (a --cpu-prof profile is written then). */
  stop(): Promise<void>;
  /** Log lines the API wrote (stdout and stderr) so far, by their `event` (or the start of the line). */
  logLines(): Map<string, number>;
}

/** The compiled API (`npm run build`), started as `node dist/src/system/apiMain.js` with a production environment. */
export async function startApi(cleanup: Cleanup, env: BenchEnvironment, settings: ApiSettings): Promise<ApiProcess> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const profiling = settings.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${settings.cpuProfileDir}`, `--cpu-prof-name=${settings.name}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...profiling, apiEntry], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      PORT: String(port),
      PUBLIC_BASE_URL: baseUrl,
      DATABASE_URL: env.databaseUrl,
      REDIS_URL: env.redisUrl,
      TEMPORAL_ADDRESS: env.temporalAddress,
      TEMPORAL_TASK_QUEUE: `bench-access-${env.runId}`,
      QUEUE_PREFIX: env.queuePrefix,
      // Never used: the access check sends nothing.
      SMTP_URL: 'smtp://127.0.0.1:2525',
      ACCESS_CHECKS_PER_PARTNER: String(settings.checksPerPartner),
      SHUTDOWN_GRACE_MS: '2000',
      OPERATOR_TOKEN: randomBytes(16).toString('hex'),
      SESSION_SECRET: randomBytes(32).toString('hex'),
      LINK_SECRET: randomBytes(32).toString('hex'),
      ...TEST_PAYLOAD_KEY_ENV,
    },
  });
  const stop = () => stopChild(child, 10_000);
  cleanup.defer(`stop the API (${settings.name}, pid ${child.pid})`, stop);
  const lines: string[] = [];
  const counted = new Map<string, number>();
  const keep = (line: string) => {
    const event = /"event":"([^"]+)"/.exec(line)?.[1] ?? line.slice(0, 60);
    counted.set(event, (counted.get(event) ?? 0) + 1);
    lines.push(line);
    if (lines.length > 30) lines.shift();
  };
  createInterface({ input: child.stderr }).on('line', keep);
  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the API did not log api.started within 60 s:\n${lines.join('\n')}`)), 60_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      keep(line);
      if (line.includes('"event":"api.started"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the API exited (code ${code}) before api.started:\n${lines.join('\n')}`));
    });
  });
  await started;
  return { baseUrl, pid: child.pid ?? 0, stop, logLines: () => new Map(counted) };
}
