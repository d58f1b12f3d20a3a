import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { customerPageErrors } from '../../src/customerPages/customerPages.js';
import { AppError } from '../../src/http/errors.js';
import { createLogger } from '../../src/infra/logger.js';

// A customer who reaches an error gets a page that says what happened, with the
// error's status, never a stack trace or an internal message.
function appThrowing(error: unknown) {
  const app = express();
  app.get('/x', () => {
    throw error;
  });
  app.use(customerPageErrors(createLogger({ level: 'silent', pretty: false })));
  return app;
}

describe('customer error pages', () => {
  it('something that is gone (a tenant or relationship removed meanwhile) is a 404 page that says so', async () => {
    const res = await request(appThrowing(new AppError('notFound', 'No tenant contoso.example.'))).get('/x');
    expect(res.status).toBe(404);
    expect(res.text).toContain('<title>Not found');
    expect(res.text).not.toContain('Something went wrong');
    expect(res.text).not.toContain('contoso.example');
  });

  it('a rate limit is a 429 page with Retry-After', async () => {
    const res = await request(appThrowing(new AppError('rateLimited', 'internal detail', { retryAfterSeconds: 42 }))).get('/x');
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('42');
    expect(res.text).toContain('Too many requests');
    expect(res.text).not.toContain('internal detail');
  });

  it('anything unexpected is a 500 page without the error text', async () => {
    const res = await request(appThrowing(new Error('db password is hunter2'))).get('/x');
    expect(res.status).toBe(500);
    expect(res.text).toContain('Something went wrong');
    expect(res.text).not.toContain('hunter2');
  });
});
