import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import type { Logger } from '../infra/logger.js';

// One error type with codes; the HTTP status, title and problem `type` are
// looked up once here, so route code never picks status numbers for failures.
// The `type` of a problem is `/problems/<code>`: stable across deployments and
// dereferenceable (GET /problems/<code> describes it). Clients branch on it.
export const problemTypes = {
  validation: { status: 400, title: 'The request is not valid', description: 'A field is missing, has the wrong type, is not allowed, or the body is not valid JSON. Nothing was changed.' },
  unauthorized: { status: 401, title: 'Authentication required', description: 'Send `Authorization: Bearer <key>` with a valid partner API key or the operator token.' },
  forbidden: { status: 403, title: 'Not allowed', description: 'The credentials are valid but may not perform this call (for example a partner calling an operator route).' },
  notFound: { status: 404, title: 'Not found', description: 'No such resource visible to the caller. Another partner’s relationship is reported as missing.' },
  conflict: { status: 409, title: 'Conflict', description: 'The request conflicts with existing data, for example a live offer for the same tenant and roles (`reason` says which).' },
  partnerPaused: { status: 409, title: 'The partner is paused', description: 'The service operator suspended this partner’s access (`pausedAt` says since when): it makes no new offers until the operator resumes it. Nothing was changed.' },
  stepRefused: { status: 409, title: 'The relationship does not allow this step now', description: 'The workflow refused the step in its current state; `reason` and `currentStatus` say why. Nothing was changed.' },
  idempotencyKeyInProgress: { status: 409, title: 'A request with this Idempotency-Key is still running', description: 'Retry after the first request has finished; the answer will be the same.' },
  preconditionFailed: { status: 412, title: 'The resource has changed', description: 'If-Match did not match the current ETag. GET the relationship again and decide anew.' },
  payloadTooLarge: { status: 413, title: 'The request body is too large', description: 'Bodies are limited to 32 KiB. Nothing was changed.' },
  unsupportedMediaType: { status: 415, title: 'Unsupported media type', description: 'Send request bodies as application/json.' },
  idempotencyKeyReused: { status: 422, title: 'The Idempotency-Key was used for a different request', description: 'An Idempotency-Key identifies one request (method, path and body); use a new key for a new request.' },
  rateLimited: { status: 429, title: 'Too many requests', description: 'A rate limit is used up (the partner’s requests, or failed authentications from this client address); retry after `Retry-After` seconds.' },
  stepCoolingDown: { status: 429, title: 'Too soon to repeat this step', description: 'The workflow allows this step again after a cooldown (`reason` says which, for example `resendCooldown`); retry after `Retry-After` seconds. Nothing was changed.' },
  partnerMailQuota: { status: 429, title: 'Too many invitation emails this hour', description: 'Each offer and each resend emails an invitation; a partner may cause `limit` of them per hour (PARTNER_MAIL_PER_HOUR). Retry after `Retry-After` seconds. Nothing was changed.' },
  pendingInvitationLimit: { status: 429, title: 'Too many invitations waiting for an answer', description: 'The partner has as many pending invitations as allowed; retry when one is answered, withdrawn or expired (`Retry-After` is the earliest expiry).' },
  internal: { status: 500, title: 'Internal error', description: 'Something failed on our side; the error is logged. Details are never sent to clients.' },
  unavailable: { status: 503, title: 'Service temporarily unavailable', description: 'A service this call needs (Redis, Temporal) does not answer; retry after `Retry-After` seconds.' },
} as const satisfies Record<string, { status: number; title: string; description: string }>;

export type ErrorCode = keyof typeof problemTypes;

export const problemTypeUri = (code: ErrorCode) => `/problems/${code}`;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extras: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return problemTypes[this.code].status;
  }
}

/** Seconds a client should wait before retrying, when the error says so. */
export function retryAfterOf(error: AppError): number | undefined {
  const seconds = error.extras.retryAfterSeconds;
  return typeof seconds === 'number' && Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : undefined;
}

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
  if (parserError?.type === 'encoding.unsupported' || parserError?.type === 'charset.unsupported' || parserError?.status === 415) {
    return new AppError('unsupportedMediaType', 'Unsupported content encoding or charset.');
  }
  if (parserError?.type === 'request.aborted' || parserError?.type === 'request.size.invalid') {
    return new AppError('validation', 'The body was not received completely.');
  }
  if (parserError?.type === 'parameters.too.many') return new AppError('payloadTooLarge', 'The form has more fields than allowed.');
  // The router and the body parsers say "the client is at fault" with an exposed 4xx status
  // (an undecodable %-escape in the path, a body whose gzip does not inflate): never our 500.
  if (err instanceof URIError) return new AppError('validation', 'The address is not valid: it has a malformed %-escape.');
  const httpError = err as { status?: unknown; expose?: unknown } | null;
  if (typeof httpError?.status === 'number' && httpError.status >= 400 && httpError.status < 500 && httpError.expose === true) {
    if (httpError.status === 413) return new AppError('payloadTooLarge', 'The body is larger than allowed.');
    return new AppError('validation', 'The request could not be read (its address or body is malformed).');
  }
  return new AppError('internal', 'Something went wrong on our side.');
}

export function problemBody(error: AppError) {
  const { status, title } = problemTypes[error.code];
  return { type: problemTypeUri(error.code), title, status, detail: error.message, ...error.extras };
}

/** Answers `err` as problem+json: for Express (problemJsonHandler) and for the routes served without it (the access check). */
export function sendProblem(req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, err: unknown, log: Logger): void {
  const appError = toAppError(err);
  const body = problemBody(appError);
  if (body.status >= 500) log.error({ event: 'http.error', err, method: req.method, path: (req.originalUrl ?? req.url ?? '').split('?')[0] }, 'request failed');
  // A failure after the response started can only cut the connection.
  if (res.headersSent) {
    req.socket.destroy();
    return;
  }
  const retryAfter = retryAfterOf(appError);
  if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
  const json = JSON.stringify(body);
  res.writeHead(body.status, { 'Content-Type': 'application/problem+json; charset=utf-8', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

export function problemJsonHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => sendProblem(req, res, err, log);
}
