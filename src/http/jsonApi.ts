import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { bearerAuth, type AuthenticateKey } from './auth.js';
import { withAuthFailureLimit, type AuthFailures } from './authFailures.js';
import { boundedBodyDepth } from './bodyDepth.js';
import { AppError } from './errors.js';
import type { LeasedRateLimit } from './leasedRateLimit.js';
import { partnerRateLimit } from './rateLimits.js';

/** Request bodies of the JSON API are at most this large (413 above it). */
export const API_BODY_LIMIT = '32kb';

/** A body in anything but JSON is refused before it is read (415), so it can't be half-understood. */
function jsonBodiesOnly(req: Request, _res: Response, next: NextFunction): void {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is('application/json')) {
    return next(new AppError('unsupportedMediaType', 'Send the body as application/json.'));
  }
  next();
}

/** What every JSON route under /api/v1 goes through: bounded JSON bodies, then (for `authenticated`) a key or the operator token, the failure limit and the rate limit. */
export interface JsonApiDeps {
  authenticateKey: AuthenticateKey;
  operatorToken: string;
  authFailures: AuthFailures;
  /** The partner's request budget. */
  rateLimit: LeasedRateLimit;
}

export function jsonBodies(): Router {
  const router = Router();
  router.use(jsonBodiesOnly);
  router.use(express.json({ limit: API_BODY_LIMIT, strict: true, type: 'application/json' }));
  router.use(boundedBodyDepth);
  return router;
}

export function authenticated(deps: JsonApiDeps): Router {
  const router = Router();
  router.use(withAuthFailureLimit(bearerAuth(deps.authenticateKey, deps.operatorToken), deps.authFailures));
  router.use(partnerRateLimit(deps.rateLimit));
  return router;
}
