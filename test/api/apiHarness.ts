import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import { expect, inject } from 'vitest';
import type { z } from 'zod';
import { problemSchema } from '../../src/apiDocs/responseSchemas.js';
import { buildApp, type HttpApp } from '../../src/system/httpApp.js';
import { createMetricsRegistry } from '../../src/operator/healthRoutes.js';
import { createProcessLogger, openApiParts } from '../../src/system/system.js';
import { checkRedis } from '../../src/infra/preflight.js';
import { freePort } from '../support/freePort.js';
import { testConfig } from '../support/testConfig.js';
import { waitFor } from '../support/waitFor.js';

// An API built with buildApp on the run's real services but without a worker,
// for supertest: enough for everything that needs no workflow to move
// (validation, auth, limits, documents), and for pointing the API at a
// private Redis that a test may stop.

export interface TestAppOptions {
  env?: Record<string, string>;
  redisUrl?: string;
  /** A Temporal address that answers nothing, to see /readyz say so. */
  temporalAddress?: string;
  databaseUrl?: string;
  /** Where the app's log lines go (default: stdout), for tests that read them. */
  logDestination?: DestinationStream;
}

export async function buildTestApp(options: TestAppOptions = {}) {
  const suffix = randomBytes(4).toString('hex');
  const config = testConfig({
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: options.databaseUrl ?? inject('databaseUrl'),
    REDIS_URL: options.redisUrl ?? inject('redisUrl'),
    TEMPORAL_ADDRESS: options.temporalAddress ?? inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `test-api-${suffix}`,
    QUEUE_PREFIX: `pftest-api-${suffix}`,
    PUBLIC_BASE_URL: 'http://127.0.0.1:1',
    ...options.env,
  });
  const log = createProcessLogger(config, 'test-api', options.logDestination);
  const parts = await openApiParts(config, log, options.temporalAddress ? { lazyTemporalConnectTimeoutMs: 500 } : {});
  parts.redis.on('error', () => undefined);
  const app: HttpApp = buildApp({ ...parts, registry: createMetricsRegistry() });
  return {
    app,
    config,
    db: parts.db,
    redis: parts.redis,
    temporal: parts.temporal,
    operatorToken: config.OPERATOR_TOKEN,
    close: () => parts.close(),
  };
}

export type TestApp = Awaited<ReturnType<typeof buildTestApp>>;

export { freePort };

/** A Redis of the test's own (never the shared one) that the test may stop. */
export async function startPrivateRedis() {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'pf-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', ''],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(() => checkRedis(url, 500).then(() => true, () => false), { what: `private redis on :${port}`, timeoutMs: 10_000 });
  let stopped = false;
  return {
    url,
    async stop() {
      if (stopped) return;
      stopped = true;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Parses a response body with a response schema, failing the test with zod's message when it doesn't fit. */
export function expectShape<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new Error(`response does not match its schema: ${parsed.error.message}\n${JSON.stringify(body).slice(0, 1000)}`);
  return parsed.data;
}

/** A problem+json answer with this status and type; nothing internal in it. */
export function expectProblem(res: { status: number; headers: Record<string, string>; body: unknown; text: string }, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = expectShape(problemSchema, res.body);
  expect(problem).toMatchObject({ type: `/problems/${code}`, status });
  expect(res.text).not.toMatch(/node_modules|\bat .+:\d+:\d+|Prisma|Error:/);
  return problem;
}

export const uniqueDomain = (label: string) => `${label}-${randomBytes(3).toString('hex')}.example.com`;

/** One field of a JSON answer (supertest types bodies as `any`; this keeps them `unknown`). */
export function field(res: { body: unknown } | undefined, name: string): unknown {
  const body = res?.body;
  return body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
}

/** The `id` of a JSON answer, as a string. */
export const idOf = (res: { body: unknown } | undefined) => String(field(res, 'id'));
