import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from './errors.js';
import type { LeasedRateLimit } from './leasedRateLimit.js';

// Fixed-window counters in Redis, shared by every API process. When Redis is
// down each process falls back to an in-memory window of the same size, so
// the limit still holds per process and calls that need nothing else from
// Redis (reads, the access check) keep working.

export interface RateLimitOptions {
  redis: Redis;
  keyPrefix: string;
  points: number;
  windowSeconds: number;
  /** What is counted, for the 429's detail (default "requests"). */
  counts?: string;
}

export interface RateLimit {
  /** Takes one point for `key`; throws a `rateLimited` AppError (429) when none is left. */
  consume(key: string): Promise<{ limit: number; remaining: number; resetSeconds: number }>;
  /** Takes one point for `key` even when none is left, and says what is left: for limits that count only failures. */
  count(key: string): Promise<{ remaining: number; msBeforeReset: number }>;
  /** The 429 this limit answers, with a Retry-After of `msBeforeReset`. */
  refusal(msBeforeReset: number): AppError;
}

export function createRateLimit({ redis, keyPrefix, points, windowSeconds, counts = 'requests' }: RateLimitOptions): RateLimit {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix,
    points,
    duration: windowSeconds,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration: windowSeconds }),
  });
  const refusal = (msBeforeNext: number) => {
    const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
    return new AppError('rateLimited', `At most ${points} ${counts} per ${windowSeconds} s; retry in ${retryAfterSeconds} s.`, {
      retryAfterSeconds,
    });
  };
  return {
    async consume(key) {
      try {
        const res = await limiter.consume(key);
        return { limit: points, remaining: res.remainingPoints, resetSeconds: Math.ceil(res.msBeforeNext / 1000) };
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        throw refusal(err.msBeforeNext);
      }
    },
    async count(key) {
      try {
        const res = await limiter.consume(key);
        return { remaining: res.remainingPoints, msBeforeReset: res.msBeforeNext };
      } catch (err) {
        // Past the limit the point is still counted (rate-limiter-flexible increments first); nothing is left.
        if (!(err instanceof RateLimiterRes)) throw err;
        return { remaining: 0, msBeforeReset: err.msBeforeNext };
      }
    },
    refusal,
  };
}

/**
 * Counts every call of an authenticated partner; the operator is not limited.
 * The budget is leased (leasedRateLimit.ts): no Redis round trip per call.
 * RateLimit-Remaining is exact with one API process; with several it counts
 * the points the others had leased, when this one last took a lease, as spent.
 */
export function partnerRateLimit(limit: LeasedRateLimit) {
  return async (_req: Request, res: Response, next: NextFunction) => {
    const principal = res.locals.principal;
    if (principal?.kind !== 'partner') return next();
    const taking = limit.take(principal.partnerId, 1);
    if (taking) await taking;
    const state = limit.standing(principal.partnerId);
    res.setHeader('RateLimit-Limit', String(state.limit));
    res.setHeader('RateLimit-Remaining', String(state.remaining));
    res.setHeader('RateLimit-Reset', String(state.resetSeconds));
    next();
  };
}
