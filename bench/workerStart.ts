import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { projectRoot } from '../src/config/projectRoot.js';
import { startBenchEnvironment, type BenchEnvironment } from './support/benchEnvironment.js';
import { runBench, type Cleanup } from './support/cleanup.js';
import { percentile } from './support/stats.js';
import { TEST_PAYLOAD_KEY_ENV } from '../test/support/testConfig.js';

// Worker start-up: from spawning the process to its `worker.started` log line
// ("worker running": connected to PostgreSQL, Redis and Temporal, templates
// compiled, the Temporal worker created with its workflow code).
//
//   sources:  node --import tsx src/system/workerMain.ts   (what ran before the build; bundles the workflows with webpack)
//   compiled: node dist/src/system/workerMain.js           (npm run build: plain node, the prebuilt bundle)
//
// Both run in turn (sources, compiled, compiled, sources, ...) on one Temporal
// dev server of their own, so drift in machine load falls on both.
// Run: npm run bench:worker-start  (builds first).

const settings = z
  .object({
    BENCH_RUNS: z.coerce.number().int().positive().default(5),
    /** Unmeasured starts of each kind first (disk cache, tsx's transform cache). */
    BENCH_WARMUP: z.coerce.number().int().min(0).default(1),
    BENCH_TIMEOUT_S: z.coerce.number().positive().default(120),
    BENCH_DATABASE_URL: z.string().default(process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'),
    BENCH_REDIS_URL: z.string().default(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'),
  })
  .parse(process.env);

const kinds = {
  sources: ['--import', 'tsx', path.join(projectRoot, 'src', 'system', 'workerMain.ts')],
  compiled: [path.join(projectRoot, 'dist', 'src', 'system', 'workerMain.js')],
} as const;
type Kind = keyof typeof kinds;

function workerEnv(env: BenchEnvironment, run: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    TEMPORAL_ADDRESS: env.temporalAddress,
    TEMPORAL_TASK_QUEUE: `bench-start-${env.runId}-${run}`,
    QUEUE_PREFIX: env.queuePrefix,
    // Never used: nothing is sent while the worker starts and stops.
    SMTP_URL: 'smtp://127.0.0.1:2525',
    OPERATOR_TOKEN: randomBytes(16).toString('hex'),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    LINK_SECRET: randomBytes(32).toString('hex'),
    ...TEST_PAYLOAD_KEY_ENV,
  };
}

/** Milliseconds from spawn to the worker.started line; then stops the worker and waits for it to exit. */
async function startOnce(kind: Kind, env: BenchEnvironment, run: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [...kinds[kind]], { cwd: projectRoot, env: workerEnv(env, run), stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines: string[] = [];
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind}: no worker.started within ${settings.BENCH_TIMEOUT_S}s`)), settings.BENCH_TIMEOUT_S * 1000);
      createInterface({ input: child.stderr }).on('line', (line) => lines.push(line));
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        if (line.includes('"event":"worker.started"')) {
          clearTimeout(timer);
          resolve(performance.now() - started);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${kind}: the worker exited (code ${code}) before worker.started:\n${lines.slice(-20).join('\n')}`));
      });
    });
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function main(cleanup: Cleanup): Promise<void> {
  const compiledEntry = kinds.compiled[0];
  if (!existsSync(compiledEntry)) throw new Error(`${path.relative(projectRoot, compiledEntry)} is missing: run npm run build (npm run bench:worker-start does)`);
  const env = await startBenchEnvironment(cleanup, { baseDatabaseUrl: settings.BENCH_DATABASE_URL, redisUrl: settings.BENCH_REDIS_URL }, (line) => console.error(line));
  const times: Record<Kind, number[]> = { sources: [], compiled: [] };
  let run = 0;
  for (let i = 0; i < settings.BENCH_WARMUP + settings.BENCH_RUNS; i++) {
    const measured = i >= settings.BENCH_WARMUP;
    const order: Kind[] = i % 2 === 0 ? ['sources', 'compiled'] : ['compiled', 'sources'];
    for (const kind of order) {
      const ms = await startOnce(kind, env, String(run++));
      if (measured) times[kind].push(ms);
      console.log(`${measured ? `run ${i - settings.BENCH_WARMUP + 1}` : 'warm-up'}  ${kind.padEnd(8)} ${Math.round(ms)} ms`);
    }
  }
  const median = (kind: Kind) => percentile(times[kind], 50);
  console.log('');
  console.log(`worker start, spawn to worker.started, median of ${settings.BENCH_RUNS} (node ${process.version}):`);
  console.log(`  sources  (node --import tsx, workflows bundled at start): ${Math.round(median('sources'))} ms  [${times.sources.map(Math.round).join(', ')}]`);
  console.log(`  compiled (node dist/..., prebuilt bundle):                ${Math.round(median('compiled'))} ms  [${times.compiled.map(Math.round).join(', ')}]`);
  console.log(`  ratio sources / compiled: ${(median('sources') / median('compiled')).toFixed(1)}x`);
}

await runBench(main);
