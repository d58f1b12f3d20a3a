import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { clientAddressOf } from './clientAddress.js';
import { AppError } from './errors.js';
import type { RateLimit } from './rateLimits.js';

// Guessing a partner key or the operator token costs one request per guess, so
// failed authentications are counted per client address; once an address has
// used up its failures, it gets 429 before any credential it sends is even
// looked at. Successful calls never count, so a busy client is not slowed.
//
// The count is shared by every API process through Redis, but no request pays
// a Redis read to be let in: each process remembers the addresses the shared
// counter told it are blocked (its answer to a failure this process recorded)
// until that window ends, and refuses only those. An address blocked by
// failures seen elsewhere is refused by this process after its first failure
// here, so a guesser gets at most (API processes - 1) guesses per window
// beyond the limit, plus any it had in flight on a process when that process
// learned it (the same race the old Redis read had). While Redis is down the
// count falls back to memory and the limit holds per process.

/** Blocked addresses remembered per process; beyond it, expired ones are swept, then the oldest dropped (it then costs at most one more guess). */
const MAX_BLOCKED = 10_000;

export interface AuthFailures {
  /** Throws `rateLimited` (429, with retryAfterSeconds) when this process knows this client has no failures left; no Redis call. */
  refuseIfBlocked(req: IncomingMessage): Promise<void>;
  /** Counts one failed authentication against this client. */
  recordFailure(req: IncomingMessage): Promise<void>;
}

export function createAuthFailures(limit: RateLimit, now: () => number = Date.now): AuthFailures {
  /** Address → when (ms) its window ends: the addresses the shared count said have no failures left. */
  const blocked = new Map<string, number>();

  function remember(address: string, until: number): void {
    blocked.delete(address);
    if (blocked.size >= MAX_BLOCKED) {
      const at = now();
      for (const [known, end] of blocked) if (end <= at) blocked.delete(known);
      const oldest = blocked.keys().next();
      if (blocked.size >= MAX_BLOCKED && !oldest.done) blocked.delete(oldest.value);
    }
    blocked.set(address, until);
  }

  return {
    refuseIfBlocked(req) {
      const address = clientAddressOf(req);
      const until = blocked.get(address);
      if (until === undefined) return Promise.resolve();
      const left = until - now();
      if (left > 0) return Promise.reject(limit.refusal(left));
      blocked.delete(address);
      return Promise.resolve();
    },
    async recordFailure(req) {
      const address = clientAddressOf(req);
      // This request still gets its 401; the next one from the address, on this process, its 429.
      const { remaining, msBeforeReset } = await limit.count(address);
      if (remaining <= 0) remember(address, now() + msBeforeReset);
    },
  };
}

type AuthCheck = (req: Request, res: Response, next: NextFunction) => unknown;

/**
 * Puts a bearer check behind the failure limit. The check refuses by throwing
 * an `unauthorized` AppError (bearerAuth, requireOperatorToken); that counts as
 * a failure only when credentials were presented, so a client that simply
 * forgot the header is told so rather than locked out.
 */
export function withAuthFailureLimit(check: AuthCheck, failures: AuthFailures) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    await failures.refuseIfBlocked(req);
    try {
      await check(req, res, next);
    } catch (err) {
      if (err instanceof AppError && err.code === 'unauthorized' && req.get('authorization') !== undefined) await failures.recordFailure(req);
      throw err;
    }
  };
}
