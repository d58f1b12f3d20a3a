/**
 * Latencies in log-spaced buckets (5 % wide, 0.01 ms to ~10 min): constant
 * memory however many samples, so counting every SQL statement and Redis
 * command of a 10,000-onboarding soak does not itself grow the heap the soak
 * measures. Percentiles are the bucket's upper bound (at most 5 % high).
 */
const GROWTH = 1.05;
const FLOOR_MS = 0.01;
const BUCKETS = Math.ceil(Math.log(600_000 / FLOOR_MS) / Math.log(GROWTH)) + 1;

export class LatencyHistogram {
  readonly counts = new Array<number>(BUCKETS).fill(0);
  count = 0;
  sumMs = 0;

  add(ms: number): void {
    const index = ms <= FLOOR_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / FLOOR_MS) / Math.log(GROWTH)));
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.count += 1;
    this.sumMs += ms;
  }

  /** p in 0..100; NaN when empty. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i += 1) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return FLOOR_MS * GROWTH ** i;
    }
    return Number.NaN;
  }

  /** What was added to `later` since this (an earlier copy of the same histogram). */
  static between(earlier: HistogramData, later: HistogramData): LatencyHistogram {
    const h = new LatencyHistogram();
    for (let i = 0; i < BUCKETS; i += 1) h.counts[i] = (later.counts[i] ?? 0) - (earlier.counts[i] ?? 0);
    h.count = later.count - earlier.count;
    h.sumMs = later.sumMs - earlier.sumMs;
    return h;
  }

  static from(data: HistogramData): LatencyHistogram {
    return LatencyHistogram.between({ counts: [], count: 0, sumMs: 0 }, data);
  }

  data(): HistogramData {
    return { counts: [...this.counts], count: this.count, sumMs: this.sumMs };
  }
}

/** A histogram as plain data (a snapshot, or sent over IPC from a child process). */
export interface HistogramData {
  counts: number[];
  count: number;
  sumMs: number;
}
