import type { Redis } from 'ioredis';
import { AppError } from './errors.js';

// A rate limit for the hottest path (the access check) that costs no Redis
// round trip per request. Windows are fixed and aligned to the clock, shared
// by every API process through one Redis counter per key and window; a
// process takes points from that counter in leases (INCRBY lease) and spends
// them locally, taking the next lease in the background before the current
// one runs out. So:
// - the budget is never exceeded across processes: a point is spent only
//   after the shared counter granted it;
// - a caller may be refused up to (processes - 1) × lease points early, the
//   points other processes leased and did not spend before the window ended;
// - while Redis is down each process grants itself at most the whole budget
//   per window (the limit then holds per process, as createRateLimit's does);
// - what is left (`standing`) is exact with one process; with several it
//   counts the points other processes had leased, as of this process's last
//   lease, as spent, so a client reading it is not promised points that may
//   already be gone (it cannot see leases taken since, short of a round trip).

export interface LeasedRateLimitOptions {
  redis: Redis;
  keyPrefix: string;
  points: number;
  windowSeconds: number;
  /** What is counted, for the 429's detail. */
  counts: string;
  /** Points taken from Redis at a time (default: a fiftieth of the budget, at least 1, at most 200). */
  lease?: number;
  now?: () => number;
}

export interface LeasedStanding {
  limit: number;
  /** Points `key` has left this window, as far as this process knows (see above). */
  remaining: number;
  /** Seconds until the window ends and the budget is whole again. */
  resetSeconds: number;
}

export interface LeasedRateLimit {
  /** Spends `n` points of `key`'s budget; throws a `rateLimited` AppError (429, Retry-After) when they are not there. */
  take(key: string, n: number): Promise<void> | undefined;
  /** What `key` has left in the current window, for the RateLimit-* headers; no Redis call. */
  standing(key: string): LeasedStanding;
}

interface Allowance {
  window: number;
  granted: number;
  spent: number;
  /** Points of this window other processes hold, from the shared counter at this process's last lease. */
  leasedElsewhere: number;
  /** The shared counter had less than a lease left: nothing more this window. */
  exhausted: boolean;
  leasing: Promise<void> | undefined;
}

/** Entries kept for keys seen in past windows before they are swept (a sweep drops every stale one). */
const SWEEP_AT = 10_000;

// One command per lease (a MULTI/EXEC of the two would be four).
const LEASE_SCRIPT = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return total
`;

export function createLeasedRateLimit(options: LeasedRateLimitOptions): LeasedRateLimit {
  const { redis, keyPrefix, points, windowSeconds, counts } = options;
  const now = options.now ?? Date.now;
  const windowMs = windowSeconds * 1000;
  const lease = Math.min(points, options.lease ?? Math.min(200, Math.max(1, Math.floor(points / 50))));
  const allowances = new Map<string, Allowance>();

  const refusal = (window: number) => {
    const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * windowMs - now()) / 1000));
    return new AppError('rateLimited', `At most ${points} ${counts} per ${windowSeconds} s; retry in ${retryAfterSeconds} s.`, { retryAfterSeconds });
  };

  function allowanceOf(key: string, window: number): Allowance {
    let allowance = allowances.get(key);
    if (allowance?.window !== window) {
      if (allowances.size >= SWEEP_AT) for (const [k, a] of allowances) if (a.window !== window) allowances.delete(k);
      allowance = { window, granted: 0, spent: 0, leasedElsewhere: 0, exhausted: false, leasing: undefined };
      allowances.set(key, allowance);
    }
    return allowance;
  }

  async function takeLease(key: string, allowance: Allowance, want: number): Promise<void> {
    let available: number;
    try {
      const counter = `${keyPrefix}:${key}:${allowance.window}`;
      const total = Number(await redis.eval(LEASE_SCRIPT, 1, counter, String(want), String(windowMs * 2)));
      available = Math.max(0, Math.min(want, points - (total - want)));
      // Leases are taken one at a time per key, so `granted` is all this process holds of `total`;
      // points asked beyond the budget were granted to nobody.
      allowance.leasedElsewhere = Math.max(0, Math.min(total, points) - (allowance.granted + available));
    } catch {
      // Redis is down or slow to answer: this process alone stays within the budget.
      available = Math.max(0, Math.min(want, points - allowance.granted));
    }
    allowance.granted += available;
    if (available < want) allowance.exhausted = true;
  }

  function requestLease(key: string, allowance: Allowance, want: number): Promise<void> {
    allowance.leasing ??= takeLease(key, allowance, want).finally(() => {
      allowance.leasing = undefined;
    });
    return allowance.leasing;
  }

  async function takeAfterLease(key: string, allowance: Allowance, n: number): Promise<void> {
    // Leases in flight may already cover it; otherwise one more, as large as the request if larger.
    while (allowance.spent + n > allowance.granted && !allowance.exhausted) {
      await requestLease(key, allowance, Math.max(lease, n - (allowance.granted - allowance.spent)));
    }
    if (allowance.spent + n > allowance.granted) throw refusal(allowance.window);
    allowance.spent += n;
  }

  const resetSecondsOf = (window: number) => Math.max(0, Math.ceil(((window + 1) * windowMs - now()) / 1000));

  return {
    standing(key) {
      const window = Math.floor(now() / windowMs);
      const allowance = allowances.get(key);
      const used = allowance?.window === window ? allowance.spent + allowance.leasedElsewhere : 0;
      return { limit: points, remaining: Math.max(0, points - used), resetSeconds: resetSecondsOf(window) };
    },
    take(key, n) {
      const window = Math.floor(now() / windowMs);
      const allowance = allowanceOf(key, window);
      if (allowance.spent + n <= allowance.granted) {
        allowance.spent += n;
        // The next lease is taken while half of this one is still left, so requests rarely wait on Redis.
        if (!allowance.exhausted && !allowance.leasing && allowance.granted - allowance.spent < lease / 2) void requestLease(key, allowance, lease);
        return undefined;
      }
      if (allowance.exhausted) throw refusal(window);
      return takeAfterLease(key, allowance, n);
    },
  };
}
