import type { CallSnapshot } from './callCounter.js';
import { profileCpu } from './cpuProfile.js';
import { LatencyHistogram } from './latencyHistogram.js';
import { cpuByGroup, type CpuGroup } from './processCpu.js';
import type { OnboardingSystem } from './onboardingSystem.js';
import { runBounded, watchEventLoop } from './stats.js';

// One side's measured rounds at one concurrency, summed up: onboardings done,
// time, latencies per leg, and the SQL and Redis work the side's processes did.

export interface Tally {
  side: string;
  concurrency: number;
  done: number;
  elapsedMs: number;
  sql: number;
  redis: number;
  sqlTime: LatencyHistogram;
  redisTime: LatencyHistogram;
  /** Statements by text, Redis commands by name, over the side's rounds. */
  statements: Map<string, number>;
  commands: Map<string, number>;
  /** Waiting, after a round, for the emails it queued to go out (not in elapsedMs). */
  drainMs: number;
  latencies: number[];
  /** Milliseconds per named leg, in the order the legs happen. */
  legs: Map<string, number[]>;
  roundRates: number[];
  errors: string[];
  loopP99Ms: number;
  loopMaxMs: number;
  /** A few workflow ids of the measured onboardings, for the history profile. */
  workflowIds: string[];
  /** Polling reads the driver made (full system). */
  reads: number;
  /** CPU milliseconds over the side's rounds (their drain included), by process group (processCpu.ts). */
  cpuMs: Map<CpuGroup, number>;
}

export const newTally = (side: string, concurrency: number): Tally => ({
  side,
  concurrency,
  done: 0,
  elapsedMs: 0,
  sql: 0,
  redis: 0,
  sqlTime: new LatencyHistogram(),
  redisTime: new LatencyHistogram(),
  statements: new Map(),
  commands: new Map(),
  drainMs: 0,
  latencies: [],
  legs: new Map(),
  roundRates: [],
  errors: [],
  loopP99Ms: 0,
  loopMaxMs: 0,
  workflowIds: [],
  reads: 0,
  cpuMs: new Map(),
});

export const rateOf = (t: Tally) => t.done / (t.elapsedMs / 1000);

export interface RoundContext {
  concurrency: number;
  deadline: number;
  /** The side's counters now (this process's, or the sum over the side's own processes). */
  counters: () => Promise<CallSnapshot>;
  /** After the round, outside its time: e.g. waiting for the full system's queued emails. */
  afterRound?: (done: number) => Promise<number>;
  progress: (line: string) => void;
  progressEveryMs: number;
  /** A .cpuprofile file: this round's main-thread CPU is profiled there and summed up through `progress`. */
  cpuProfileFile?: string;
}

/** Runs `count` onboardings of `system` from `first` and adds them to `tally` (if given; warm-up passes none). */
export async function runRound(system: OnboardingSystem, first: number, count: number, ctx: RoundContext, tally?: Tally): Promise<void> {
  if (count <= 0) return;
  await system.prepare?.(first, count);
  const before = await ctx.counters();
  const cpuBefore = await cpuByGroup();
  const loop = watchEventLoop();
  const started = performance.now();
  let finished = 0;
  const ticker = setInterval(() => {
    const seconds = (performance.now() - started) / 1000;
    ctx.progress(`  … ${system.name} c${ctx.concurrency}: ${finished}/${count} in ${seconds.toFixed(0)} s (${(finished / seconds).toFixed(2)}/s)`);
  }, ctx.progressEveryMs);
  const onboardAll = () =>
    runBounded(first, count, ctx.concurrency, ctx.deadline, async (i) => {
      const times = await system.onboard(i);
      finished += 1;
      return times;
    });
  let outcome: Awaited<ReturnType<typeof onboardAll>>;
  try {
    if (ctx.cpuProfileFile) {
      const profiled = await profileCpu(ctx.cpuProfileFile, onboardAll);
      outcome = profiled.result;
      ctx.progress(`main-thread CPU by self time, ${system.name} round (${ctx.cpuProfileFile}):\n${profiled.summary.map((line) => `  ${line}`).join('\n')}`);
    } else {
      outcome = await onboardAll();
    }
  } finally {
    clearInterval(ticker);
  }
  const { results, errors } = outcome;
  const elapsedMs = performance.now() - started;
  const delay = loop.stop();
  const drainMs = (await ctx.afterRound?.(results.length)) ?? 0;
  const after = await ctx.counters();
  const cpuAfter = await cpuByGroup();
  if (!tally) return;
  for (const [group, ms] of cpuAfter) tally.cpuMs.set(group, (tally.cpuMs.get(group) ?? 0) + ms - (cpuBefore.get(group) ?? 0));
  tally.sql += after.sql - before.sql;
  tally.redis += after.redis - before.redis;
  const sqlTime = LatencyHistogram.between(before.sqlTime, after.sqlTime);
  const redisTime = LatencyHistogram.between(before.redisTime, after.redisTime);
  sqlTime.counts.forEach((n, i) => (tally.sqlTime.counts[i] = (tally.sqlTime.counts[i] ?? 0) + n));
  tally.sqlTime.count += sqlTime.count;
  tally.sqlTime.sumMs += sqlTime.sumMs;
  redisTime.counts.forEach((n, i) => (tally.redisTime.counts[i] = (tally.redisTime.counts[i] ?? 0) + n));
  tally.redisTime.count += redisTime.count;
  tally.redisTime.sumMs += redisTime.sumMs;
  for (const [into, was, now] of [
    [tally.statements, before.statements, after.statements],
    [tally.commands, before.commands, after.commands],
  ] as const) {
    for (const [key, n] of now) {
      const added = n - (was.get(key) ?? 0);
      if (added > 0) into.set(key, (into.get(key) ?? 0) + added);
    }
  }
  tally.done += results.length;
  tally.elapsedMs += elapsedMs;
  tally.drainMs += drainMs;
  for (const r of results) {
    tally.latencies.push(r.acceptToActiveMs);
    for (const [leg, ms] of r.legs) {
      const times = tally.legs.get(leg) ?? [];
      times.push(ms);
      tally.legs.set(leg, times);
    }
    if (r.workflowId && tally.workflowIds.length < 200) tally.workflowIds.push(r.workflowId);
    tally.reads += r.reads ?? 0;
  }
  tally.roundRates.push(results.length / (elapsedMs / 1000));
  tally.errors.push(...errors);
  tally.loopP99Ms = Math.max(tally.loopP99Ms, delay.p99Ms);
  tally.loopMaxMs = Math.max(tally.loopMaxMs, delay.maxMs);
}
