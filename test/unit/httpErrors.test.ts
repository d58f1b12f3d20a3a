import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError, problemBody, problemTypes, problemTypeUri, retryAfterOf, toAppError, type ErrorCode } from '../../src/http/errors.js';

// One error type; the status, title and problem type come from one table, and
// whatever a library throws becomes one of them without leaking its internals.

/** An error as body-parser or http-errors would throw it. */
const httpError = (props: Record<string, unknown>, message = 'internal detail: /srv/app/node_modules/raw-body/index.js') =>
  Object.assign(new Error(message), props);

describe('toAppError', () => {
  it('keeps an AppError as it is', () => {
    const error = new AppError('conflict', 'A live offer exists.', { reason: 'liveOffer' });
    expect(toAppError(error)).toBe(error);
  });

  it('turns a ZodError into a validation problem listing each field', () => {
    const result = z.object({ name: z.string(), roles: z.array(z.string()).min(1) }).safeParse({ roles: [] });
    const error = toAppError(result.error);
    expect(error.code).toBe('validation');
    expect(error.status).toBe(400);
    expect(error.extras.errors).toEqual([
      { path: 'name', message: expect.any(String) as string },
      { path: 'roles', message: expect.any(String) as string },
    ]);
  });

  it.each([
    [{ type: 'entity.parse.failed', status: 400 }, 'validation', 'The body is not valid JSON.'],
    [{ type: 'entity.too.large', status: 413 }, 'payloadTooLarge', 'The body is larger than allowed.'],
    [{ type: 'encoding.unsupported', status: 415 }, 'unsupportedMediaType', 'Unsupported content encoding or charset.'],
    [{ type: 'charset.unsupported', status: 415 }, 'unsupportedMediaType', 'Unsupported content encoding or charset.'],
    [{ status: 415 }, 'unsupportedMediaType', 'Unsupported content encoding or charset.'],
    [{ type: 'request.aborted', status: 400 }, 'validation', 'The body was not received completely.'],
    [{ type: 'request.size.invalid', status: 400 }, 'validation', 'The body was not received completely.'],
    [{ type: 'parameters.too.many', status: 413 }, 'payloadTooLarge', 'The form has more fields than allowed.'],
    [{ status: 400, expose: true }, 'validation', 'The request could not be read (its address or body is malformed).'],
    [{ status: 413, expose: true }, 'payloadTooLarge', 'The body is larger than allowed.'],
  ] as const)('a parser error %j is %s, without its internals', (props, code, message) => {
    const error = toAppError(httpError(props));
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
    expect(JSON.stringify(problemBody(error))).not.toContain('node_modules');
  });

  it('an undecodable %-escape in the path is the client’s fault', () => {
    let thrown: unknown;
    try {
      decodeURIComponent('%E0%A4%A');
    } catch (error) {
      thrown = error;
    }
    expect(toAppError(thrown)).toMatchObject({ code: 'validation', message: 'The address is not valid: it has a malformed %-escape.' });
  });

  it.each([
    ['a plain Error', new Error('connect ECONNREFUSED 127.0.0.1:5432')],
    ['a 4xx error not meant to be shown', httpError({ status: 404, expose: false })],
    ['a 5xx http error', httpError({ status: 502, expose: true })],
    ['a string', 'boom'],
    ['null', null],
    ['undefined', undefined],
    ['an object with a non-numeric status', { status: '400', expose: true }],
  ])('%s is an internal error that says nothing more', (_label, thrown) => {
    const error = toAppError(thrown);
    expect(error.code).toBe('internal');
    expect(error.status).toBe(500);
    expect(error.message).toBe('Something went wrong on our side.');
    expect(error.extras).toEqual({});
  });
});

describe('problem+json bodies', () => {
  it('have type, title, status, detail and the extras', () => {
    const error = new AppError('stepRefused', 'Cannot terminate while the relationship is invited.', { reason: 'invalidState', currentStatus: 'invited' });
    expect(problemBody(error)).toEqual({
      type: '/problems/stepRefused',
      title: 'The relationship does not allow this step now',
      status: 409,
      detail: 'Cannot terminate while the relationship is invited.',
      reason: 'invalidState',
      currentStatus: 'invited',
    });
  });

  it.each(Object.keys(problemTypes) as ErrorCode[])('%s: a stable type URI, a status from the table, a title and a description', (code) => {
    const { status, title, description } = problemTypes[code];
    expect(problemTypeUri(code)).toBe(`/problems/${code}`);
    expect(new AppError(code, 'x').status).toBe(status);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(600);
    expect(title.trim()).not.toBe('');
    expect(description.trim()).not.toBe('');
  });

  it('statuses that clients branch on stay what the API documents', () => {
    const statuses = Object.fromEntries(Object.entries(problemTypes).map(([code, { status }]) => [code, status]));
    expect(statuses).toMatchObject({ validation: 400, unauthorized: 401, forbidden: 403, notFound: 404, conflict: 409, preconditionFailed: 412, rateLimited: 429, internal: 500, unavailable: 503 });
  });
});

describe('retryAfterOf', () => {
  it('whole seconds, at least 1, only when the error carries a finite number', () => {
    expect(retryAfterOf(new AppError('rateLimited', 'x', { retryAfterSeconds: 30 }))).toBe(30);
    expect(retryAfterOf(new AppError('rateLimited', 'x', { retryAfterSeconds: 0.2 }))).toBe(1);
    expect(retryAfterOf(new AppError('rateLimited', 'x', { retryAfterSeconds: 0 }))).toBe(1);
    expect(retryAfterOf(new AppError('rateLimited', 'x', { retryAfterSeconds: 12.01 }))).toBe(13);
    expect(retryAfterOf(new AppError('rateLimited', 'x', { retryAfterSeconds: Number.POSITIVE_INFINITY }))).toBeUndefined();
    expect(retryAfterOf(new AppError('rateLimited', 'x', { retryAfterSeconds: '30' }))).toBeUndefined();
    expect(retryAfterOf(new AppError('rateLimited', 'x'))).toBeUndefined();
  });
});
