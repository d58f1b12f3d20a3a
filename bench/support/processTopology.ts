import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import ts from 'typescript';
import { projectRoot } from '../../src/config/projectRoot.js';
import type { Config } from '../../src/config/config.js';
import { apiEntry, ensureBuilt, workerEntry } from '../../test/support/compiledProcess.js';
import { freePort } from '../../test/support/freePort.js';
import { TEST_PAYLOAD_KEY_ENV } from '../../test/support/testConfig.js';
import type { CallSnapshot } from './callCounter.js';
import type { ProbeRequest } from './childProbe.js';
import type { Cleanup } from './cleanup.js';
import { pollUntil } from './stats.js';

// The system as a deployment runs it: the compiled API and two compiled
// workers, each its own `node` process on dist/ (npm run build), against the
// bench's Postgres database, Redis prefix and Temporal dev server. Each child
// also loads bench/support/childProbe.ts, which counts its SQL and Redis calls
// and reports them with its memory over the IPC channel. The probe is
// transpiled to plain JavaScript first: a TypeScript loader (tsx) given with
// --import reaches Temporal's workflow threads too, where it fails.

export interface ProbeAnswer {
  type: 'snapshot';
  calls: CallSnapshot;
  heapUsedMb: number;
  rssMb: number;
}

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** The last lines it wrote (warnings and errors at the bench's log level). */
  lines: string[];
  probe(gc: boolean): Promise<ProbeAnswer>;
}

/** The probe and what it imports, as ES modules under node_modules/.cache (so `pg` and `ioredis` resolve from the project). */
async function transpileProbe(): Promise<string> {
  const dir = path.join(projectRoot, 'node_modules', '.cache', 'partnerflow-bench-probe');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'package.json'), '{"type":"module"}\n');
  for (const name of ['childProbe', 'callCounter', 'latencyHistogram']) {
    const source = await readFile(path.join(projectRoot, 'bench', 'support', `${name}.ts`), 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
    await writeFile(path.join(dir, `${name}.js`), outputText);
  }
  return path.join(dir, 'childProbe.js');
}

function startService(name: string, entry: string, probePath: string, env: NodeJS.ProcessEnv, cleanup: Cleanup, cpuProfileDir?: string): ServiceProcess {
  // A profile of the process's whole life, written by node as it exits (the stop below lets it exit).
  const profiling = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`, `--cpu-prof-name=${name.replace(/\W+/g, '-')}-${Date.now()}.cpuprofile`] : [];
  const child = spawn(process.execPath, ['--expose-gc', ...profiling, '--import', probePath, entry], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 200) lines.shift();
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanup.defer(`stop the ${name} process`, async () => {
    if (child.connected) child.disconnect();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
  });
  return {
    name,
    child,
    lines,
    probe(gc) {
      return new Promise<ProbeAnswer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} did not answer the probe within 10 s`)), 10_000);
        child.once('message', (answer: ProbeAnswer) => {
          clearTimeout(timer);
          resolve(answer);
        });
        const request: ProbeRequest = { type: 'snapshot', gc };
        child.send(request);
      });
    },
  };
}

/** Starts the compiled API and `workers` compiled workers with `config`'s services and secrets; resolves once all serve. */
export async function startProcessTopology(config: Config, client: Client, cleanup: Cleanup, workers: number, log: (line: string) => void, cpuProfileDir?: string) {
  const builtStarted = performance.now();
  await ensureBuilt();
  log(`build checked/made in ${((performance.now() - builtStarted) / 1000).toFixed(1)} s`);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'test',
    LOG_LEVEL: config.LOG_LEVEL,
    PORT: String(port),
    PUBLIC_BASE_URL: baseUrl,
    DATABASE_URL: config.DATABASE_URL,
    REDIS_URL: config.REDIS_URL,
    TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
    TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
    QUEUE_PREFIX: config.QUEUE_PREFIX,
    SMTP_URL: config.SMTP_URL,
    OPERATOR_TOKEN: config.OPERATOR_TOKEN,
    SESSION_SECRET: config.SESSION_SECRET,
    LINK_SECRET: config.LINK_SECRET,
    ALLOW_SHORT_DURATIONS: String(config.ALLOW_SHORT_DURATIONS),
    RESEND_COOLDOWN_SECONDS: String(config.RESEND_COOLDOWN_SECONDS),
    OUTBOX_SWEEP_INTERVAL_SECONDS: String(config.OUTBOX_SWEEP_INTERVAL_SECONDS),
    PARTNER_MAIL_PER_HOUR: String(config.PARTNER_MAIL_PER_HOUR),
    RECIPIENT_MAIL_PER_HOUR: String(config.RECIPIENT_MAIL_PER_HOUR),
    MAIL_RATE_PER_SECOND: String(config.MAIL_RATE_PER_SECOND),
    ...TEST_PAYLOAD_KEY_ENV,
  };
  const probePath = await transpileProbe();
  const services = [startService('api', apiEntry, probePath, env, cleanup, cpuProfileDir)];
  for (let i = 1; i <= workers; i += 1) services.push(startService(`worker ${i}`, workerEntry, probePath, env, cleanup, cpuProfileDir));

  const died = (s: ServiceProcess) => s.child.exitCode !== null || s.child.signalCode !== null;
  const explain = () => services.map((s) => `--- ${s.name} ---\n${s.lines.slice(-20).join('\n')}`).join('\n');
  const startedAt = performance.now();
  await pollUntil('the API to answer /healthz and every worker to poll the task queue', 200, 120_000, async () => {
    const dead = services.find(died);
    if (dead) throw new Error(`${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}) while starting\n${explain()}`);
    const healthy = (await fetch(`${baseUrl}/healthz`).catch(() => undefined))?.ok;
    if (!healthy) return undefined;
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: { name: config.TEMPORAL_TASK_QUEUE },
      taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return new Set((pollers ?? []).map((p) => p.identity)).size >= workers ? true : undefined;
  });
  log(`api + ${workers} workers serving after ${((performance.now() - startedAt) / 1000).toFixed(1)} s (pids ${services.map((s) => s.child.pid).join(', ')})`);

  return {
    baseUrl,
    services,
    /** Every process's counters and memory (after GC when `gc`). */
    probeAll: (gc: boolean) => Promise.all(services.map(async (s) => ({ name: s.name, ...(await s.probe(gc)) }))),
    /** Processes that have exited, and warning/error lines they wrote, for the report. */
    problems(): string[] {
      const out: string[] = [];
      for (const s of services) {
        if (died(s)) out.push(`${s.name} exited (${s.child.exitCode ?? s.child.signalCode})`);
        for (const line of s.lines.filter((l) => /"level":(40|50|60)|error/i.test(l)).slice(-5)) out.push(`${s.name}: ${line.slice(0, 300)}`);
      }
      return out;
    },
  };
}

export type ProcessTopology = Awaited<ReturnType<typeof startProcessTopology>>;
