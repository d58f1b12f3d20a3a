import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

// The faults of one chaos run, all drawn from one seed: which kinds, in what
// order, when and for how long. Printed at the start, so a failing run is
// replayed exactly with CHAOS_SEED=<seed> (and the same CHAOS_* settings).

export const faultKinds = ['killWorker', 'killApi', 'restartTemporal', 'stopRedis', 'stopPostgres', 'smtpDown'] as const;
export type FaultKind = (typeof faultKinds)[number];

/** How many of each kind one run injects. */
const perRun: Record<FaultKind, number> = { killWorker: 3, killApi: 3, restartTemporal: 1, stopRedis: 1, stopPostgres: 1, smtpDown: 1 };

/** How long each kind keeps its part down, before `outageScale`: [min, max] ms. */
const downFor: Record<FaultKind, [number, number]> = {
  killWorker: [500, 4_000],
  killApi: [500, 4_000],
  restartTemporal: [1_000, 5_000],
  stopRedis: [20_000, 30_000],
  stopPostgres: [20_000, 30_000],
  smtpDown: [20_000, 40_000],
};

export interface Fault {
  kind: FaultKind;
  /** From the start of the driving, when the fault begins. */
  atMs: number;
  downMs: number;
}

export interface ScheduleOptions {
  kinds: readonly FaultKind[];
  /** Multiplies the long outages (Redis, Postgres, SMTP); CI may scale them down. */
  outageScale: number;
  /** The first fault starts after this long, so the first relationships are under way. */
  firstAtMs: number;
}

export function faultSchedule(seed: number, options: ScheduleOptions): Fault[] {
  const rng = xoroshiro128plus(seed);
  const bag = options.kinds.flatMap((kind) => Array.from({ length: perRun[kind] }, () => kind));
  // Fisher–Yates with the seeded generator: the order is part of the schedule.
  for (let i = bag.length - 1; i > 0; i--) {
    const j = uniformInt(rng, 0, i);
    [bag[i], bag[j]] = [bag[j] as FaultKind, bag[i] as FaultKind];
  }
  const faults: Fault[] = [];
  let at = options.firstAtMs;
  for (const kind of bag) {
    const [min, max] = downFor[kind];
    const long = kind === 'stopRedis' || kind === 'stopPostgres' || kind === 'smtpDown';
    const downMs = Math.round(uniformInt(rng, min, max) * (long ? options.outageScale : 1));
    faults.push({ kind, atMs: at, downMs });
    // One fault at a time, with a few seconds of normal running between two.
    at += downMs + uniformInt(rng, 3_000, 10_000);
  }
  return faults;
}

export const describeSchedule = (faults: Fault[]) =>
  faults.map((f) => `  +${(f.atMs / 1000).toFixed(1)}s ${f.kind} for ${(f.downMs / 1000).toFixed(1)}s`).join('\n');
