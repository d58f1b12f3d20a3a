import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Client } from '@temporalio/client';
import type { Redis } from 'ioredis';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Database } from '../infra/database.js';
import type { Logger } from '../infra/logger.js';
import { problemJsonHandler } from '../http/errors.js';

export interface HealthDeps {
  db: Database;
  redis: Redis;
  temporal: Client;
  registry: Registry;
  /** Lets only the operator through: readiness and metrics describe the deployment. */
  operatorOnly: (req: Request, res: Response, next: NextFunction) => Promise<void>;
  log: Logger;
}

const READY_CHECK_MS = 2000;

const withTimeout = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref())]);

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'partnerflow_api_' });
  return registry;
}

/** Liveness (open, for load balancers), readiness (each dependency checked) and Prometheus metrics (operator token). */
export function healthRoutes(deps: HealthDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', deps.operatorOnly, async (_req, res) => {
    const checks: Record<string, () => Promise<unknown>> = {
      postgres: () => deps.db.$executeRaw`SELECT 1`,
      redis: () => deps.redis.ping(),
      // A gRPC deadline (inside the check's own timeout) ends the client's retries too; without it a probe
      // against a Temporal that does not answer leaves a call retrying in the background after it answered.
      temporal: () => deps.temporal.withDeadline(Date.now() + READY_CHECK_MS - 100, () => deps.temporal.workflowService.getSystemInfo({})),
    };
    const results: Record<string, { ok: boolean; error?: string }> = {};
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), READY_CHECK_MS);
          results[name] = { ok: true };
        } catch (err) {
          results[name] = { ok: false, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    const ready = Object.values(results).every((r) => r.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks: results });
  });
  router.get('/metrics', deps.operatorOnly, async (_req, res) => {
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
  // A refused probe or scrape is a problem+json like the API's, not a customer page.
  router.use(problemJsonHandler(deps.log));
  return router;
}
