import type { Request } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../http/errors.js';

// Sign-in attempts counted per client (req.ip), never per organisation or per
// address: what one client does spends only that client's budget, so nobody
// can use up a tenant's sign-ins and lock its admin out. Two kinds count:
// every ask for a link (the client cannot be told whether its address is an
// admin, so its admin and non-admin asks must cost the same, or a 429 would
// reveal which addresses are admins), and every failed use of a link (unknown,
// expired, used, or for an address that is no longer an admin). A good link
// use costs nothing. Kept in Redis across processes; per process in memory
// while Redis is down.

export interface SignInAttempts {
  /** Throws `rateLimited` when the client has nothing left; takes nothing. */
  check(req: Request): Promise<void>;
  /** Counts one attempt; throws `rateLimited` when it was one too many. */
  count(req: Request): Promise<void>;
}

/**
 * The client's key. Behind a reverse proxy `trust proxy` must name it (app.ts
 * trusts loopback), or every client would share the proxy's address.
 */
export const clientKey = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

export function createSignInAttempts(options: { redis: Redis; keyPrefix: string; points: number; windowSeconds: number }): SignInAttempts {
  const { points, windowSeconds } = options;
  const limiter = new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix: options.keyPrefix,
    points,
    duration: windowSeconds,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: options.keyPrefix, points, duration: windowSeconds }),
  });
  const limited = (msBeforeNext: number) => {
    const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
    return new AppError('rateLimited', `Too many sign-in attempts from this network; try again in ${Math.ceil(retryAfterSeconds / 60)} minutes.`, {
      retryAfterSeconds,
    });
  };
  return {
    async check(req) {
      const state = await limiter.get(clientKey(req));
      if (state && state.consumedPoints >= points) throw limited(state.msBeforeNext);
    },
    async count(req) {
      try {
        await limiter.consume(clientKey(req));
      } catch (err) {
        if (err instanceof RateLimiterRes) throw limited(err.msBeforeNext);
        throw err;
      }
    },
  };
}
