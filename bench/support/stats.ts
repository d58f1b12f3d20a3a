import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Nearest-rank percentile of `values` (p in 0..100); NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `task(i)` for i in [first, first + count) with at most `concurrency` at
 * once, starting nothing new after `deadline` (performance.now() ms). Failures
 * are collected, not thrown: one stuck relationship must not hide the rest.
 */
export async function runBounded<T>(
  first: number,
  count: number,
  concurrency: number,
  deadline: number,
  task: (index: number) => Promise<T>,
): Promise<{ results: T[]; errors: string[] }> {
  const results: T[] = [];
  const errors: string[] = [];
  let next = first;
  const end = first + count;
  async function lane(): Promise<void> {
    while (next < end && performance.now() < deadline) {
      const index = next++;
      try {
        results.push(await task(index));
      } catch (err) {
        errors.push(`#${index}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return { results, errors };
}

/** Polls `check` every `intervalMs` until it returns a value, or throws after `timeoutMs`. */
export async function pollUntil<T>(what: string, intervalMs: number, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export interface MemorySample {
  heapUsedMb: number;
  rssMb: number;
}

/**
 * Main-thread heap after two full collections (needs node --expose-gc), and
 * the process RSS, which also covers the Temporal worker's workflow threads
 * and its Rust core.
 */
export async function memoryAfterGc(): Promise<MemorySample> {
  const collect = globalThis.gc;
  if (!collect) throw new Error('run node with --expose-gc (npm run bench:onboarding does)');
  for (let i = 0; i < 2; i += 1) {
    collect();
    // Let finalizers and weak callbacks queued by the collection run.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsedMb: heapUsed / 2 ** 20, rssMb: rss / 2 ** 20 };
}

/** Event-loop delay over a stretch of the run; a blocked loop shows as a high max. */
export function watchEventLoop(): { stop(): { p99Ms: number; maxMs: number } } {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      return { p99Ms: histogram.percentile(99) / 1e6, maxMs: histogram.max / 1e6 };
    },
  };
}
