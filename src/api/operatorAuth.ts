import type { NextFunction, Request, Response } from 'express';
import { constantTimeEqual } from '../infra/tokens.js';
import { AppError } from './errors.js';

/**
 * Only the operator token (Authorization: Bearer) passes: for service endpoints
 * outside the JSON API (/readyz, /metrics) whose answers describe the
 * deployment (dependency errors, process and request metrics) to whoever asks.
 */
export function requireOperatorToken(operatorToken: string) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!match?.[1]) throw new AppError('unauthorized', 'Send Authorization: Bearer <operator token>.');
    if (!constantTimeEqual(match[1], operatorToken)) throw new AppError('unauthorized', 'The operator token is not valid.');
    next();
  };
}
