import { describe, expect, it } from 'vitest';
import { problemSchema } from '../../src/apiDocs/responseSchemas.js';
import { useTestApp } from '../support/useTestApp.js';
import { expectShape } from './apiHarness.js';

// Requests the HTTP layer itself cannot read (found by the fuzz suite, each a 500
// before): they are the client's fault, so they get a 4xx problem or page, never 500.

describe('requests the HTTP layer cannot read', () => {
  const { app, api } = useTestApp();

  it('an undecodable %-escape in a path parameter is a 400, on the API and on the pages', async () => {
    for (const path of ['/api/v1/relationships/%ZZ', '/api/v1/relationships/%C0%AE']) {
      const res = await api.get(path).set('Authorization', `Bearer ${app.operatorToken}`);
      expect(res.status, path).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(expectShape(problemSchema, res.body).type).toBe('/problems/validation');
    }
    const page = await api.post('/tenant-admins/confirm/%u0041').type('form').send('x=1');
    expect(page.status).toBe(400);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('<h1>');
    expect(page.text).not.toMatch(/URIError|at .+:\d+:\d+/);
  });

  it('a body whose Content-Encoding does not decode is a 400 problem', async () => {
    const res = await api
      .post('/api/v1/admin/partners')
      .set('Authorization', `Bearer ${app.operatorToken}`)
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .send(Buffer.from('0123456789abcdef'));
    expect(res.status).toBe(400);
    expect(expectShape(problemSchema, res.body).type).toBe('/problems/validation');
  });

  it('a form with more fields than allowed is a 413 page', async () => {
    const fields = Array.from({ length: 21 }, (_, i) => `f${i}=${i}`).join('&');
    const res = await api.post('/sign-in').type('form').send(fields);
    expect(res.status).toBe(413);
    expect(res.text).toContain('The form was larger than allowed');
  });

  it('a body nested deeper than any request needs is a 400, not a stack overflow', async () => {
    const depth = 15_000;
    for (const idempotent of [true, false]) {
      const req = api.post('/api/v1/admin/partners').set('Authorization', `Bearer ${app.operatorToken}`).set('Content-Type', 'application/json');
      if (idempotent) req.set('Idempotency-Key', 'deep-body');
      const res = await req.send(`${'['.repeat(depth)}${']'.repeat(depth)}`);
      expect(res.status).toBe(400);
      expect(expectShape(problemSchema, res.body).detail).toContain('nested');
    }
  });

  it('a malformed body on the queue dashboard gets our page, not the parser’s message', async () => {
    const res = await api.get('/admin/queues/./').set('Authorization', `Bearer ${app.operatorToken}`).set('Content-Type', 'application/json').send('""');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).not.toMatch(/Unexpected token|is not valid JSON/);
  });
});
