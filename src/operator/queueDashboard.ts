import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Queue } from 'bullmq';
import { constantTimeEqual } from '../infra/tokens.js';
import { basicPasswordOrBearerOf } from '../http/auth.js';
import type { AuthFailures } from '../http/authFailures.js';
import { AppError, retryAfterOf } from '../http/errors.js';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

export interface QueueDashboardDeps {
  /** The queues to show; their owner (the composition root) closes them. */
  queues: Queue[];
  operatorToken: string;
  /** Wrong passwords count against the client like wrong bearer keys do. */
  authFailures: AuthFailures;
}

/**
 * Operator access to the dashboard. It is opened in a browser, which cannot add
 * a Bearer header to a page load, and a `?token=` would end up in history,
 * proxy logs and Referer headers. HTTP Basic auth (any user name, the operator
 * token as password) makes the browser ask once and resend the credentials on
 * every request, including the dashboard's own API calls. Scripts may send
 * `Authorization: Bearer <operator token>` instead. Serve it over TLS only.
 */
function requireOperator(operatorToken: string, failures: AuthFailures) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      await failures.refuseIfBlocked(req);
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'rateLimited')) throw err;
      res.status(429).set('retry-after', String(retryAfterOf(err) ?? 1)).type('text/plain').send(err.message);
      return;
    }
    const presented = basicPasswordOrBearerOf(req);
    if (presented && constantTimeEqual(presented, operatorToken)) {
      res.set('cache-control', 'no-store');
      return next();
    }
    if (presented !== undefined) await failures.recordFailure(req);
    res
      .status(401)
      .set('www-authenticate', 'Basic realm="partnerflow queues", charset="UTF-8"')
      .type('text/plain')
      .send('The queue dashboard needs the operator token (HTTP Basic password, or a Bearer header).');
  };
}

/**
 * Mounts Bull Board at /admin/queues showing the given queues (the mail and
 * webhook queues of the API process).
 */
export function mountQueueDashboard(app: Express, deps: QueueDashboardDeps): void {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: deps.queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'partnerflow queues' } },
  });
  // getRouter() is typed `any` by Bull Board; it is an Express router.
  const router = serverAdapter.getRouter() as (req: Request, res: Response, next: NextFunction) => void;
  // Our JSON parser runs first, so a malformed or oversized body gets our readable error page
  // instead of Bull Board's own answer, which echoes the parser's message.
  app.use(QUEUE_DASHBOARD_PATH, requireOperator(deps.operatorToken, deps.authFailures), express.json({ limit: '32kb' }), router);
}
