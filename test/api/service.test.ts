import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { problemTypes } from '../../src/http/errors.js';
import { runOperatorCli } from '../../src/operator/cli/operatorCli.js';
import { livenessSchema, readinessSchema } from '../../src/apiDocs/responseSchemas.js';
import { createRelationshipSchema, listRelationshipsQuerySchema, reasonBodySchema } from '../../src/relationships/relationshipSchemas.js';
import { useTestApp } from '../support/useTestApp.js';
import { buildTestApp, expectShape, field } from './apiHarness.js';

// The service surface: the OpenAPI document (checked against the routes the
// app really has), health, readiness of each dependency, metrics, headers.

interface Layer {
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
}

/** Every route registered in the app, as "METHOD /path/{param}", and the paths routers are mounted at. */
function registeredRoutes(app: Express): { routes: Set<string>; mounts: Set<string> } {
  const routes = new Set<string>();
  const mounts = new Set<string>();
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      const at = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      if (layer.route) {
        const path = `${prefix}${layer.route.path}`.replace(/:(\w+)/g, '{$1}');
        for (const method of Object.keys(layer.route.methods)) routes.add(`${method.toUpperCase()} ${path}`);
      } else {
        if (at) mounts.add(`${prefix}${at}`);
        if (layer.handle.stack) walk(layer.handle.stack, `${prefix}${at}`);
      }
    }
  };
  const router = (app as unknown as { router: { stack: Layer[] } }).router;
  walk(router.stack, '');
  return { routes, mounts };
}

type OpenApi = {
  openapi: string;
  paths: Record<string, Record<string, { security: Record<string, unknown>[]; responses: Record<string, { content?: Record<string, unknown> }>; parameters?: unknown[] }>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown>; parameters: Record<string, unknown> };
};

describe('service endpoints', () => {
  const { app: system, api } = useTestApp();
  let doc: OpenApi;

  beforeAll(async () => {
    const res = await api.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    doc = JSON.parse(res.text) as OpenApi;
  });

  describe('GET /openapi.json', () => {
    it('is an OpenAPI 3.1 document with its three security schemes', () => {
      expect(doc.openapi).toMatch(/^3\.1\./);
      expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['enforcerKey', 'operatorToken', 'partnerApiKey']);
      const operationIds = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => (op as { operationId?: string }).operationId));
      expect(new Set(operationIds).size).toBe(operationIds.length);
      expect(operationIds.every((id) => typeof id === 'string' && /^[A-Za-z0-9]+$/.test(id))).toBe(true);
      expect(doc.components.securitySchemes.partnerApiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    });

    it('lists every route the app serves, and nothing it does not', () => {
      const { routes, mounts } = registeredRoutes(system.app.express);
      const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
      // A mounted sub-app (the queue dashboard) is documented by its entry page, not its inner routes.
      const opaque = [...mounts].filter((m) => documented.has(`GET ${m}`));
      expect(opaque).toEqual(['/admin/queues']);
      const pathOf = (r: string) => r.slice(r.indexOf(' ') + 1);
      const ours = [...routes].filter((r) => !opaque.some((m) => pathOf(r) === m || pathOf(r).startsWith(`${m}/`)));
      expect(ours.length).toBeGreaterThan(20);
      expect(ours.filter((r) => !documented.has(r))).toEqual([]);
      expect([...documented].filter((d) => !ours.includes(d) && !opaque.includes(pathOf(d)))).toEqual([]);
    });

    it('generates request schemas from the zod schemas the routes validate with', () => {
      const strip = (schema: Record<string, unknown>) => {
        const { $schema: _s, ...rest } = schema;
        return rest;
      };
      expect(doc.components.schemas.CreateRelationshipRequest).toEqual(strip(z.toJSONSchema(createRelationshipSchema, { io: 'input', unrepresentable: 'any' })));
      expect(doc.components.schemas.StepRequest).toEqual(strip(z.toJSONSchema(reasonBodySchema, { io: 'input', unrepresentable: 'any' })));
      const list = doc.paths['/api/v1/relationships']?.get;
      const params = (list?.parameters ?? []) as { name: string; in: string }[];
      expect(params.map((p) => p.name).sort()).toEqual(Object.keys(listRelationshipsQuerySchema.shape).sort());
      expect((doc.components.schemas.CreateRelationshipRequest as { additionalProperties?: unknown }).additionalProperties).toBe(false);
    });

    it('secured operations answer 401 problems; every problem is problem+json; every $ref resolves', () => {
      const refs: string[] = [];
      const collect = (value: unknown) => {
        if (Array.isArray(value)) value.forEach(collect);
        else if (value && typeof value === 'object') {
          for (const [key, inner] of Object.entries(value)) {
            if (key === '$ref' && typeof inner === 'string') refs.push(inner);
            else collect(inner);
          }
        }
      };
      collect(doc);
      expect(refs.length).toBeGreaterThan(20);
      for (const ref of refs) {
        const target = ref
          .replace(/^#\//, '')
          .split('/')
          .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
        expect(target, ref).toBeDefined();
      }
      for (const [path, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          const secured = op.security.some((s) => Object.keys(s).length > 0);
          if (secured && path.startsWith('/api/')) {
            expect(op.responses['401']?.content?.['application/problem+json'], `${method} ${path}`).toBeDefined();
          }
          for (const [status, response] of Object.entries(op.responses)) {
            if (Number(status) >= 400 && path.startsWith('/api/')) expect(Object.keys(response.content ?? {}), `${method} ${path} ${status}`).toEqual(['application/problem+json']);
          }
        }
      }
      const create = doc.paths['/api/v1/relationships']?.post;
      expect(Object.keys(create?.responses ?? {}).sort()).toEqual(['201', '400', '401', '403', '409', '413', '415', '422', '429', '500', '503']);
      expect(JSON.stringify(create?.responses['429'])).toContain('/problems/pendingInvitationLimit');
      expect(JSON.stringify(doc.paths['/api/v1/relationships/{id}/withdraw']?.post?.parameters)).toContain('#/components/parameters/IfMatch');
    });

    it('every problem type is documented and has a page', async () => {
      const text = JSON.stringify(doc);
      for (const code of Object.keys(problemTypes)) {
        expect(text).toContain(`/problems/${code}`);
        expect((await api.get(`/problems/${code}`)).status).toBe(200);
      }
    });
  });

  it('/healthz answers ok', async () => {
    const res = await api.get('/healthz');
    expect(res.status).toBe(200);
    expectShape(livenessSchema, res.body);
  });

  it('/readyz checks Postgres, Redis and Temporal', async () => {
    const res = await api.get('/readyz').set('Authorization', `Bearer ${system.operatorToken}`);
    expect(res.status).toBe(200);
    expect(expectShape(readinessSchema, res.body)).toEqual({
      status: 'ready',
      checks: { postgres: { ok: true }, redis: { ok: true }, temporal: { ok: true } },
    });
  });

  it('/readyz reports Temporal and Postgres down, each on its own', async () => {
    const noTemporal = await buildTestApp({ temporalAddress: '127.0.0.1:1' });
    const noPostgres = await buildTestApp({ databaseUrl: 'postgresql://postgres@127.0.0.1:1/none' });
    try {
      const t = await request(noTemporal.app).get('/readyz').set('Authorization', `Bearer ${noTemporal.operatorToken}`);
      expect(t.status).toBe(503);
      expect(field(t, 'checks')).toMatchObject({ temporal: { ok: false }, postgres: { ok: true }, redis: { ok: true } });
      const p = await request(noPostgres.app).get('/readyz').set('Authorization', `Bearer ${noPostgres.operatorToken}`);
      expect(p.status).toBe(503);
      expect(field(p, 'checks')).toMatchObject({ postgres: { ok: false }, temporal: { ok: true }, redis: { ok: true } });
    } finally {
      await noTemporal.close();
      await noPostgres.close();
    }
  });

  it('/metrics is Prometheus text with request counts', async () => {
    await api.get('/api/v1/roles');
    const res = await api.get('/metrics').set('Authorization', `Bearer ${system.operatorToken}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/partnerflow_http_requests_total\{method="GET",route="\/roles",status="200"\} \d+/);
    expect(res.text).toContain('partnerflow_api_process_cpu_seconds_total');
  });

  it('helmet headers on pages and API; no stack traces on unknown pages', async () => {
    for (const path of ['/partner-relationships', '/api/v1/roles', '/no-such-page']) {
      const res = await api.get(path);
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security']).toBeDefined();
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
    const missing = await api.get('/no-such-page');
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('Page not found');
    expect(missing.text).not.toMatch(/\bat .+:\d+:\d+/);
  });

  it('the operator CLI creates and lists partners and relationships through the API', async () => {
    const server = createServer(system.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const run = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runOperatorCli(argv, { env: { PARTNERFLOW_URL: url, OPERATOR_TOKEN: system.operatorToken }, out: (l) => out.push(l), err: (l) => err.push(l) });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    try {
      const created = await run('partners', 'create', '--name', 'Cli Partner', '--email', 'ops@cli.example');
      expect(created.code).toBe(0);
      expect(created.out).toMatch(/API key: +pf_/);
      const id = /partner ([0-9a-f-]{36})/.exec(created.out)?.[1] ?? '';
      expect((await run('partners', 'list')).out).toContain(id);
      expect(JSON.parse((await run('relationships', 'list', '--partner', id, '--json')).out)).toEqual({ relationships: [] });

      const invalid = await run('partners', 'create', '--name', 'X', '--email', 'not-an-email');
      expect(invalid.code).toBe(2);
      expect(invalid.err).toContain('400 The request is not valid');
      expect(invalid.err).toContain('contactEmail');
      expect((await run('relationships', 'show', '00000000-0000-4000-8000-000000000000')).err).toContain('404');
      expect((await run('frobnicate')).code).toBe(2);
      const noToken = await runOperatorCli(['partners', 'list'], { env: { PARTNERFLOW_URL: url }, out: () => undefined, err: () => undefined });
      expect(noToken).toBe(2);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
