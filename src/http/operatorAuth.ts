import type { NextFunction, Request, Response } from 'express';
import { constantTimeEqual } from '../infra/tokens.js';
import { bearerTokenOf } from './auth.js';
import { AppError } from './errors.js';

/**
 * Only the operator token (Authorization: Bearer) passes: for service endpoints
 * outside the JSON API (/readyz, /metrics) whose answers describe the
 * deployment (dependency errors, process and request metrics) to whoever asks.
 */
export function requireOperatorToken(operatorToken: string) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const token = bearerTokenOf(req);
    if (!token) throw new AppError('unauthorized', 'Send Authorization: Bearer <operator token>.');
    if (!constantTimeEqual(token, operatorToken)) throw new AppError('unauthorized', 'The operator token is not valid.');
    next();
  };
}
