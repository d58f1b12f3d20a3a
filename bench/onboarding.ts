import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { projectRoot } from '../src/config/projectRoot.js';
import { createLogger } from '../src/infra/logger.js';
import { installTemporalRuntime } from '../src/infra/temporalLogger.js';
import { bundleWorkflows } from '../src/system/workflowBundle.js';
import { startBareSystem } from './support/bareSystem.js';
import { startBenchEnvironment } from './support/benchEnvironment.js';
import { countCalls, sumSnapshots, type CallSnapshot } from './support/callCounter.js';
import { startCeilingSystems } from './support/ceilingSystem.js';
import { runBench, type Cleanup } from './support/cleanup.js';
import { startFullSystem } from './support/fullSystem.js';
import { profileHistories, type HistoryProfile } from './support/historyProfile.js';
import type { OnboardingSystem } from './support/onboardingSystem.js';
import { findKnee, type KneeResult } from './support/openLoop.js';
import { newTally, runRound, rateOf, type RoundContext, type Tally } from './support/onboardingRounds.js';
import { cpuRows, heapSlopeKb, memoryRows, openLoopRows, profileRows, sideRows, targetTable, writeResults, type MemoryRow } from './support/onboardingReport.js';
import { targetRows } from './support/onboardingTargets.js';
import { memoryAfterGc, pollUntil } from './support/stats.js';

// Onboarding through the whole system (HTTP API, worker runtime, Postgres,
// Redis/BullMQ, SMTP) against, on the same Temporal dev server in the same run:
// the same workflow with no-op activities (bare), the minimal onboarding shape
// and a plain one-activity workflow (issue 13's ceiling). Sides run in rotating
// rounds so drift in machine load falls on all. Prints issue 13's targets as
// ratios with PASS/MISS and the bound a miss hits, a profile per leg from the
// client, the SQL/Redis counters and Temporal's histories; writes a markdown
// table and SVG charts to bench/results/. Modes: BENCH_TOPOLOGY=processes (the
// compiled API and two workers as processes), BENCH_ARRIVALS=1,2,5,10,20 (open
// loop, finds the knee), BENCH_COUNT=10000 (soak: heap after GC per onboarding).
// Run: npm run bench:onboarding  (node --expose-gc, for the memory figures).

const settingsSchema = z.object({
  BENCH_COUNT: z.coerce.number().int().positive().default(100),
  BENCH_CONCURRENCY: z.coerce.number().int().positive().default(10),
  BENCH_WARMUP: z.coerce.number().int().min(0).default(5),
  BENCH_ROUNDS: z.coerce.number().int().positive().default(4),
  /** Onboardings per ceiling side (bare, shape, plain) at most: a 10,000 soak needs them only as a reference. */
  BENCH_CEILING_MAX: z.coerce.number().int().positive().default(200),
  /** Onboardings per side (full, shape) at concurrency 1, for the concurrency-1 targets; 0 skips. */
  BENCH_C1_COUNT: z.coerce.number().int().min(0).default(10),
  BENCH_TOPOLOGY: z.enum(['in-process', 'processes']).default('in-process'),
  BENCH_WORKERS: z.coerce.number().int().positive().default(2),
  /** Open-loop arrival rates per second, e.g. 1,2,5,10,20; unset skips the open loop. */
  BENCH_ARRIVALS: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(',').map((x) => z.coerce.number().positive().parse(x.trim())) : [])),
  BENCH_STEP_S: z.coerce.number().positive().default(20),
  BENCH_MAX_IN_FLIGHT: z.coerce.number().int().positive().default(200),
  /** Histories read per side for the profile. */
  BENCH_PROFILE_SAMPLE: z.coerce.number().int().min(0).default(10),
  BENCH_PROGRESS_S: z.coerce.number().positive().default(15),
  BENCH_TIME_CAP_S: z.coerce.number().positive().default(600),
  BENCH_STEP_TIMEOUT_S: z.coerce.number().positive().default(60),
  BENCH_POLL_MS: z.coerce.number().int().positive().default(10),
  /** Partners the full system's offers are spread over; by default enough to stay under the per-partner rate limit. */
  BENCH_PARTNERS: z.coerce.number().int().positive().optional(),
  /** MAIL_RATE_PER_SECOND for the mail worker; unset keeps the product default. */
  BENCH_MAIL_RATE: z.coerce.number().int().positive().optional(),
  /** A directory: the first measured round of each side is CPU-profiled there (main thread of this process). */
  BENCH_CPU_PROFILE: z.string().optional(),
  BENCH_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  BENCH_RESULTS_DIR: z.string().default(path.join(projectRoot, 'bench', 'results')),
  BENCH_DATABASE_URL: z.string().default(process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'),
  BENCH_REDIS_URL: z.string().default(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'),
});

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const out = (line = '') => console.log(line);
const loadAverage = () => os.loadavg().map((l) => l.toFixed(1)).join(' / ');

async function main(cleanup: Cleanup): Promise<void> {
  const s = settingsSchema.parse(process.env);
  const log = createLogger({ level: s.BENCH_LOG_LEVEL, pretty: false, name: 'bench' });
  // Before anything touches the SDK runtime (the dev server start does).
  installTemporalRuntime(log);
  if (!globalThis.gc) throw new Error('run with node --expose-gc (npm run bench:onboarding does)');

  const ceilingCount = Math.min(s.BENCH_COUNT, s.BENCH_CEILING_MAX);
  const partners = s.BENCH_PARTNERS ?? Math.max(s.BENCH_CONCURRENCY, Math.ceil((s.BENCH_WARMUP + s.BENCH_COUNT + s.BENCH_C1_COUNT) / 25));
  const stepTimeoutMs = s.BENCH_STEP_TIMEOUT_S * 1000;
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, ${fmt(os.totalmem() / 2 ** 30)} GB, ${os.platform()} ${os.release()}, Node ${process.version}; load average at start ${loadAverage()}`;
  const settingsLine =
    `topology ${s.BENCH_TOPOLOGY}${s.BENCH_TOPOLOGY === 'processes' ? ` (1 API + ${s.BENCH_WORKERS} workers)` : ''}; ${s.BENCH_COUNT} full onboardings ` +
    `(${ceilingCount} per ceiling side) at concurrency ${s.BENCH_CONCURRENCY} in ${s.BENCH_ROUNDS} rotating rounds after ${s.BENCH_WARMUP} warm-up each; ` +
    `${s.BENCH_C1_COUNT} per side at concurrency 1; poll ${s.BENCH_POLL_MS} ms; ${partners} partners; mail rate ${s.BENCH_MAIL_RATE ?? 'product default'}; ` +
    `log level ${s.BENCH_LOG_LEVEL}${s.BENCH_ARRIVALS.length > 0 ? `; open loop ${s.BENCH_ARRIVALS.join(', ')}/s, ${s.BENCH_STEP_S} s each` : ''}`;

  out('Onboarding benchmark: the full system against the bare workflow and the Temporal ceiling on one dev server.');
  out(`machine: ${machine}`);
  out(`settings: ${settingsLine}`);
  out('NOTE: figures are from ONE run on a shared machine; read them as indicative.');

  const setupStarted = performance.now();
  const env = await startBenchEnvironment(cleanup, { baseDatabaseUrl: s.BENCH_DATABASE_URL, redisUrl: s.BENCH_REDIS_URL }, (line) => out(`  ${line}`));
  const workflowBundle = await bundleWorkflows();
  const calls = countCalls();
  cleanup.defer('unwrap the call counters', () => calls.restore());
  const full = await startFullSystem(env, cleanup, {
    workflowBundle,
    logLevel: s.BENCH_LOG_LEVEL,
    mailRatePerSecond: s.BENCH_MAIL_RATE,
    partners,
    pollMs: s.BENCH_POLL_MS,
    stepTimeoutMs,
    topology: s.BENCH_TOPOLOGY,
    workers: s.BENCH_WORKERS,
    ...(s.BENCH_CPU_PROFILE ? { cpuProfileDir: s.BENCH_CPU_PROFILE } : {}),
    progress: (line) => out(`  ${line}`),
  });
  const bare = await startBareSystem(env, cleanup, { workflowBundle, pollMs: s.BENCH_POLL_MS, stepTimeoutMs });
  const ceiling = await startCeilingSystems(env, cleanup, { pollMs: s.BENCH_POLL_MS, stepTimeoutMs });
  out(`setup: ${fmt((performance.now() - setupStarted) / 1000)} s (mail rate in effect ${full.config.MAIL_RATE_PER_SECOND}/s)`);

  const processes = full.processes;
  const localCounters = () => Promise.resolve(calls.snapshot());
  // In the multi-process topology the full side's SQL and Redis are its processes'; this process makes none for it.
  const fullCounters = async (): Promise<CallSnapshot> => (processes ? sumSnapshots((await processes.probeAll(false)).map((x) => x.calls)) : calls.snapshot());
  let fullOnboarded = 0;
  // Emails the full system queued (invitation + "accepted" to the partner) still go out after
  // its round; waiting for them keeps that work out of the next side's round.
  async function drainMail(done: number): Promise<number> {
    fullOnboarded += done;
    const started = performance.now();
    await pollUntil('queued emails to be sent', 20, stepTimeoutMs, () => Promise.resolve(full.mailReceived() >= 2 * fullOnboarded ? true : undefined)).catch((err: unknown) =>
      out(`  warning: ${err instanceof Error ? err.message : String(err)}`),
    );
    return performance.now() - started;
  }
  const contextFor = (system: OnboardingSystem, concurrency: number, deadline: number): RoundContext => ({
    concurrency,
    deadline,
    counters: system === full ? fullCounters : localCounters,
    afterRound: system === full ? drainMail : undefined,
    progress: out,
    progressEveryMs: s.BENCH_PROGRESS_S * 1000,
  });
  const nextIndex = new Map<OnboardingSystem, number>();
  const take = (system: OnboardingSystem, count: number) => {
    const first = nextIndex.get(system) ?? 0;
    nextIndex.set(system, first + count);
    return first;
  };
  const sides: OnboardingSystem[] = [full, bare, ceiling.shape, ceiling.plain];
  const perRoundOf = (system: OnboardingSystem) => Math.ceil((system === full ? s.BENCH_COUNT : ceilingCount) / s.BENCH_ROUNDS);

  async function memorySample(label: string): Promise<MemoryRow> {
    if (processes) {
      const probes = await processes.probeAll(true);
      return { label, onboarded: fullOnboarded, processes: probes.map((x) => ({ name: x.name, heapUsedMb: x.heapUsedMb, rssMb: x.rssMb })) };
    }
    const m = await memoryAfterGc();
    return { label, onboarded: fullOnboarded, processes: [{ name: 'this process (API, workers, drivers)', ...m }] };
  }

  if (s.BENCH_WARMUP > 0) {
    const warmDeadline = performance.now() + s.BENCH_TIME_CAP_S * 1000;
    for (const system of sides) await runRound(system, take(system, s.BENCH_WARMUP), s.BENCH_WARMUP, contextFor(system, s.BENCH_CONCURRENCY, warmDeadline));
    out(`warm-up: ${s.BENCH_WARMUP} on each side (not counted)`);
  }

  const tallies = new Map<OnboardingSystem, Tally>(sides.map((x) => [x, newTally(x.name, s.BENCH_CONCURRENCY)]));
  const memory: MemoryRow[] = [await memorySample('after warm-up')];
  const deadline = performance.now() + s.BENCH_TIME_CAP_S * 1000;
  const runStarted = performance.now();
  for (let round = 0; round < s.BENCH_ROUNDS; round += 1) {
    if (performance.now() >= deadline) {
      out(`time cap reached: stopped before round ${round + 1}`);
      break;
    }
    const order = [...sides.slice(round % sides.length), ...sides.slice(0, round % sides.length)];
    for (const system of order) {
      const tally = tallies.get(system);
      const remaining = (system === full ? s.BENCH_COUNT : ceilingCount) - (tally?.done ?? 0) - (tally?.errors.length ?? 0);
      const count = Math.max(0, Math.min(perRoundOf(system), remaining));
      const ctx = contextFor(system, s.BENCH_CONCURRENCY, deadline);
      if (s.BENCH_CPU_PROFILE && round === 0) ctx.cpuProfileFile = path.join(s.BENCH_CPU_PROFILE, `onboarding-${system.name.replace(/\W+/g, '-')}.cpuprofile`);
      await runRound(system, take(system, count), count, ctx, tally);
    }
    memory.push(await memorySample(`after round ${round + 1}`));
    const elapsed = (performance.now() - runStarted) / 1000;
    const eta = (elapsed / (round + 1)) * (s.BENCH_ROUNDS - round - 1);
    out(
      `round ${round + 1}/${s.BENCH_ROUNDS} (${elapsed.toFixed(0)} s, about ${eta.toFixed(0)} s to go; load ${loadAverage()}): ` +
        order.map((x) => `${x.name} ${fmt(tallies.get(x)?.roundRates.at(-1) ?? Number.NaN, 2)}/s`).join(', '),
    );
  }

  const c1: Tally[] = [];
  if (s.BENCH_C1_COUNT > 0) {
    const c1Deadline = performance.now() + s.BENCH_TIME_CAP_S * 1000;
    const fullC1 = newTally(full.name, 1);
    const shapeC1 = newTally(ceiling.shape.name, 1);
    const half = Math.ceil(s.BENCH_C1_COUNT / 2);
    for (const [system, tally] of [
      [full, fullC1],
      [ceiling.shape, shapeC1],
      [ceiling.shape, shapeC1],
      [full, fullC1],
    ] as const) {
      const count = Math.min(half, s.BENCH_C1_COUNT - tally.done - tally.errors.length);
      await runRound(system, take(system, count), count, contextFor(system, 1, c1Deadline), tally);
    }
    c1.push(fullC1, shapeC1);
    out(`concurrency 1: full ${fmt(rateOf(fullC1), 2)}/s, shape ${fmt(rateOf(shapeC1), 2)}/s`);
  }

  // What one partner read costs, alone: the driver polls with them, so the SQL and Redis counts hold them.
  let perRead: { sql: number; redis: number } | undefined;
  const readSamples = 20;
  try {
    const before = await fullCounters();
    for (let i = 0; i < readSamples; i += 1) await full.readOnce();
    const after = await fullCounters();
    perRead = { sql: (after.sql - before.sql) / readSamples, redis: (after.redis - before.redis) / readSamples };
    out(`one partner read of a relationship: ${fmt(perRead.sql, 1)} SQL statements, ${fmt(perRead.redis, 1)} Redis commands (${readSamples} alone, after the rounds)`);
  } catch (err) {
    out(`  measuring a read failed: ${err instanceof Error ? err.message : String(err)}`);
  }

  out('reading workflow histories for the profile ...');
  const profiles: { side: string; profile: HistoryProfile }[] = [];
  for (const [system, client] of [
    [full, full.temporal],
    [bare, bare.client],
    [ceiling.shape, ceiling.client],
  ] as const) {
    const ids = tallies.get(system)?.workflowIds ?? [];
    const profile = await profileHistories(client, ids, s.BENCH_PROFILE_SAMPLE).catch((err: unknown) => {
      out(`  history profile of ${system.name} failed: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    });
    if (profile) profiles.push({ side: system.name, profile });
  }

  let openLoop: KneeResult | undefined;
  if (s.BENCH_ARRIVALS.length > 0) {
    out(`open loop on the full system: ${s.BENCH_ARRIVALS.join(', ')}/s, ${s.BENCH_STEP_S} s each, until the knee ...`);
    const first = take(full, 0);
    openLoop = await findKnee(full, {
      rates: s.BENCH_ARRIVALS,
      stepSeconds: s.BENCH_STEP_S,
      maxInFlight: s.BENCH_MAX_IN_FLIGHT,
      drainTimeoutMs: stepTimeoutMs * 2,
      firstIndex: first,
      progress: (line) => out(`  ${line}`),
    });
    take(full, openLoop.nextIndex - first);
    fullOnboarded += [...openLoop.steps, ...(openLoop.half ? [openLoop.half] : [])].reduce((n, st) => n + st.completed, 0);
    memory.push(await memorySample('after the open loop'));
  }

  const all = [...tallies.values(), ...c1];
  const fullTally = tallies.get(full) ?? newTally(full.name, s.BENCH_CONCURRENCY);
  const targets = targetRows({
    full10: fullTally,
    shape10: tallies.get(ceiling.shape) ?? newTally('shape', s.BENCH_CONCURRENCY),
    plain10: tallies.get(ceiling.plain) ?? newTally('plain', s.BENCH_CONCURRENCY),
    full1: c1[0],
    shape1: c1[1],
    fullProfile: profiles.find((x) => x.side === full.name)?.profile,
    shapeProfile: profiles.find((x) => x.side === ceiling.shape.name)?.profile,
    perRead,
    // Over the rotating rounds only: the samples after warm-up and after each round.
    heapKbPerOnboarding: heapSlopeKb(memory.filter((m) => m.label !== 'after the open loop')),
  });
  const problems = [
    ...all.flatMap((t) => t.errors.slice(0, 5).map((e) => `${t.side} c${t.concurrency}: ${e}`)),
    ...(openLoop ? [...openLoop.steps, ...(openLoop.half ? [openLoop.half] : [])].flatMap((st) => st.errors.slice(0, 3).map((e) => `open loop ${st.rate}/s: ${e}`)) : []),
    ...(processes?.problems() ?? []),
  ];
  const smtpPerOnboarding = full.mailReceived() / Math.max(1, fullOnboarded);
  const notes = [
    'accept→active: full = the customer\'s accept form posted → the partner API shows active; bare = accept Update sent → query shows active; shape = accept Update sent → workflow result.',
    'Ratios are measured ÷ reference from this one run. Target rows against the shape use its Update round trip leg ("accept (update)").',
    'SQL and Redis counts and times are the full system\'s own processes (in-process: this process, which the other sides leave idle), wrapped from the bench side (bench/support/callCounter.ts); time per call includes waiting for a pooled connection.',
    `Heap growth is the least-squares slope of heap after GC over the samples after warm-up and each round; the bench itself keeps about 60 B of latency samples per onboarding${processes ? ' (in this process, not in the measured ones)' : ''}.`,
    `load average at end: ${loadAverage()}`,
  ];

  out();
  out('RESULTS (one run, shared machine)');
  out();
  for (const line of targetTable(targets)) out(line);
  out();
  for (const line of sideRows(all)) out(line);
  out();
  out('CPU per onboarding by process (ms):');
  for (const line of cpuRows(all)) out(line);
  out();
  out('Where a full onboarding spends its time:');
  for (const line of profileRows(fullTally, profiles.find((x) => x.side === full.name)?.profile, smtpPerOnboarding)) out(line);
  if (openLoop) {
    out();
    for (const line of openLoopRows(openLoop)) out(line);
  }
  out();
  for (const line of memoryRows(memory)) out(line);
  for (const p of problems) out(`  problem: ${p}`);
  const top = [...fullTally.statements].sort((a, b) => b[1] - a[1]).slice(0, 40);
  out();
  out('SQL statements per full onboarding, by text (most frequent first):');
  for (const [text, count] of top) out(`  ${fmt(count / Math.max(1, fullTally.done)).padStart(5)}  ${text}`);
  out('Redis commands per full onboarding, by name:');
  out(`  ${[...fullTally.commands].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ${fmt(n / Math.max(1, fullTally.done))}`).join(', ')}`);
  for (const n of notes) out(`- ${n}`);

  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const written = await writeResults(s.BENCH_RESULTS_DIR, stamp, {
    title: `Onboarding benchmark, ${stamp}`,
    machine,
    settings: settingsLine,
    tallies: all,
    targets,
    profiles,
    smtpPerOnboarding,
    openLoop,
    memory,
    problems,
    notes,
  });
  out(`written: ${written.map((x) => path.relative(projectRoot, x)).join(', ')}`);
}

await runBench(main);
