import type { Client } from '@temporalio/client';
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { Database } from '../infra/database.js';
import type { Logger } from '../infra/logger.js';
import type { MailOutbox } from '../mail/mailOutbox.js';
import { AppError, problemJsonHandler } from './errors.js';
import { messagePage } from './pages/invitationPages.js';
import { createRelationshipService } from './relationshipService.js';
import { customerPages } from './routes/customerPages.js';
import { healthRoutes } from './routes/health.js';
import { partnerApi } from './routes/partnerApi.js';

export interface AppDeps {
  config: Config;
  db: Database;
  redis: Redis;
  temporal: Client;
  mail: MailOutbox;
  log: Logger;
  registry: Registry;
}

/** Builds the Express app; `main.ts` listens. Tests import this directly. */
export function buildApp(deps: AppDeps): Express {
  const { config, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(helmet());
  app.use(cookieParser(config.SESSION_SECRET));

  const requests = new Counter({
    name: 'partnerflow_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [deps.registry],
  });
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      log.debug({ event: 'http.request', method: req.method, path: req.path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    next();
  });

  const relationships = createRelationshipService({
    db: deps.db,
    temporal: deps.temporal,
    redis: deps.redis,
    log,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    namespace: config.TEMPORAL_NAMESPACE,
    temporalUiUrl: config.TEMPORAL_UI_URL,
  });

  app.use(healthRoutes({ db: deps.db, redis: deps.redis, temporal: deps.temporal, registry: deps.registry }));
  app.use('/api/v1', partnerApi({ db: deps.db, relationships, operatorToken: config.OPERATOR_TOKEN }));
  app.use('/api/v1', (_req, _res, next) => next(new AppError('notFound', 'No such API route.')));
  app.use('/api/v1', problemJsonHandler(log));
  app.use(customerPages({ db: deps.db, relationships, mail: deps.mail, publicBaseUrl: config.PUBLIC_BASE_URL, log }));

  // Customers get a readable page, never a stack trace.
  app.use((_req, res) => {
    res.status(404).send(messagePage('Page not found', 'There is nothing at this address.'));
  });
  app.use((err: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    if (err instanceof AppError && err.code === 'forbidden') {
      return res.status(403).send(messagePage('Not allowed', err.message));
    }
    log.error({ event: 'page.error', err, path: req.path }, 'page failed');
    res.status(500).send(messagePage('Something went wrong', 'Please try again in a moment.'));
  });
  return app;
}
