import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import type { Logger } from '../infra/logger.js';

// One error type with codes; the HTTP status and problem type are looked up
// once here, so route code never picks status numbers for failures.
export const errorCodes = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  notFound: 404,
  conflict: 409,
  stepRefused: 409,
  preconditionFailed: 412,
  payloadTooLarge: 413,
  tooManyRequests: 429,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extras: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

const titles: Record<ErrorCode, string> = {
  validation: 'The request is not valid',
  unauthorized: 'Authentication required',
  forbidden: 'Not allowed',
  notFound: 'Not found',
  conflict: 'Conflict',
  stepRefused: 'The relationship does not allow this step now',
  preconditionFailed: 'The resource has changed',
  payloadTooLarge: 'The request body is too large',
  tooManyRequests: 'Too many requests',
  unavailable: 'Service temporarily unavailable',
  internal: 'Internal error',
};

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) {
    return new AppError('validation', 'The request does not match the schema.', {
      errors: err.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    });
  }
  // body-parser errors carry a status and a type; never echo their internals.
  const parserError = err as { type?: unknown; status?: unknown } | null;
  if (parserError?.type === 'entity.parse.failed') return new AppError('validation', 'The body is not valid JSON.');
  if (parserError?.type === 'entity.too.large') return new AppError('payloadTooLarge', 'The body is larger than allowed.');
  if (parserError?.status === 415 || parserError?.type === 'encoding.unsupported') {
    return new AppError('validation', 'Unsupported content encoding.');
  }
  return new AppError('internal', 'Something went wrong on our side.');
}

export function problemJsonHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appError = toAppError(err);
    const status = errorCodes[appError.code];
    if (status >= 500) log.error({ event: 'http.error', err, method: req.method, path: req.path }, 'request failed');
    if (appError.code === 'tooManyRequests' && typeof appError.extras.retryAfterSeconds === 'number') {
      res.setHeader('Retry-After', String(appError.extras.retryAfterSeconds));
    }
    res.status(status).type('application/problem+json').json({
      type: `/problems/${appError.code}`,
      title: titles[appError.code],
      status,
      detail: appError.message,
      ...appError.extras,
    });
  };
}
