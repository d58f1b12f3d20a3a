import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { clientAddressOf } from './clientAddress.js';
import { AppError } from './errors.js';
import type { RateLimit } from './rateLimits.js';

// Guessing a partner key or the operator token costs one request per guess, so
// failed authentications are counted per client address; once an address has
// used up its failures, it gets 429 before any credential it sends is even
// looked at. Successful calls never count, so a busy client is not slowed.

export interface AuthFailures {
  /** Throws `rateLimited` (429, with retryAfterSeconds) when this client has no failures left. */
  refuseIfBlocked(req: IncomingMessage): Promise<void>;
  /** Counts one failed authentication against this client. */
  recordFailure(req: IncomingMessage): Promise<void>;
}

export function createAuthFailures(limit: RateLimit): AuthFailures {
  return {
    refuseIfBlocked: (req) => limit.refuseIfUsedUp(clientAddressOf(req)),
    async recordFailure(req) {
      try {
        await limit.consume(clientAddressOf(req));
      } catch (err) {
        // Already over the limit (a concurrent failure): this request still gets its 401.
        if (!(err instanceof AppError && err.code === 'rateLimited')) throw err;
      }
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
